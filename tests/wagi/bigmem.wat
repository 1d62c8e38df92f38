;; bigmem.wat — WAGI guest whose initial memory (64 pages) exceeds a small
;; max_memory_pages: the load-time trial instantiation must reject it.
(module
  (memory (export "memory") 64)
  (func (export "_start")))
