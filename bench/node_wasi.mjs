// node_wasi.mjs — run a WASI preview1 module under Node's V8, the reference
// engine of `make bench`.
//   node --no-warnings bench/node_wasi.mjs module.wasm [args...]
// Exits with the module's exit code. No preopened directories, empty env.
import { readFile } from 'node:fs/promises';
import { argv, exit, stderr } from 'node:process';
import { WASI } from 'node:wasi';

const [file, ...rest] = argv.slice(2);
if (!file) {
  stderr.write('usage: node --no-warnings bench/node_wasi.mjs module.wasm [args...]\n');
  exit(2);
}
const wasi = new WASI({ version: 'preview1', args: [file, ...rest], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
exit(wasi.start(instance) ?? 0);
