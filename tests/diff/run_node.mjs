// run_node.mjs — the V8 (node) side of the differential tests (tests/diff/).
//
// Owns: running one `wasm-opt -ttf` module in V8 and printing the same log
// as tests/diff/diff_host.c prints for sluice (see the format there): the
// "fuzzing-support" log-* imports print their argument; every exported
// function is called in export order with zero arguments (after
// "hangLimitInitializer", when exported), then its results or trap class
// and a hash of the memory exported as "memory" are printed; "end" last.
// Export signatures come from a small binary parser below (the JS API does
// not expose them), so V8 gets real zeros (0n for i64, null for refs).
// Usage: node tests/diff/run_node.mjs MODULE.wasm
// Output is written synchronously (fs.writeSync), so when the caller kills a
// hanging run with `timeout`, everything before the hanging call is kept.
import fs from 'node:fs';

const out = (s) => fs.writeSync(1, s + '\n');

// ---- the binary: types of exported functions --------------------------------
function parseModule(bytes) {
  let pos = 8;
  const u8 = () => bytes[pos++];
  const uleb = () => {
    let v = 0, shift = 0, b;
    do {
      b = bytes[pos++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  };
  const name = () => {
    const n = uleb();
    const s = Buffer.from(bytes.subarray(pos, pos + n)).toString('utf8');
    pos += n;
    return s;
  };
  const limits = () => { const f = u8(); uleb(); if (f & 1) uleb(); };
  const types = [], funcs = [];
  while (pos < bytes.length) {
    const id = u8();
    const size = uleb();
    const end = pos + size;
    if (id === 1) {
      for (let n = uleb(); n > 0; n--) {
        if (u8() !== 0x60) throw new Error('unsupported type form');
        const params = [], results = [];
        for (let k = uleb(); k > 0; k--) params.push(u8());
        for (let k = uleb(); k > 0; k--) results.push(u8());
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = uleb(); n > 0; n--) {
        name(); name();
        const kind = u8();
        if (kind === 0) funcs.push(types[uleb()]);
        else if (kind === 1) { u8(); limits(); }
        else if (kind === 2) limits();
        else if (kind === 3) { u8(); u8(); }
      }
    } else if (id === 3) {
      for (let n = uleb(); n > 0; n--) funcs.push(types[uleb()]);
    }
    pos = end;
  }
  return funcs;
}

// ---- formatting ----------------------------------------------------------------
const f32buf = new Float32Array(1), u32buf = new Uint32Array(f32buf.buffer);
const f64buf = new Float64Array(1), u64buf = new BigUint64Array(f64buf.buffer);
const hex = (v, w) => '0x' + v.toString(16).padStart(w, '0');
function fmtF32(x) {
  if (Number.isNaN(x)) return 'nan';
  f32buf[0] = x;
  return hex(u32buf[0], 8);
}
function fmtF64(x) {
  if (Number.isNaN(x)) return 'nan';
  f64buf[0] = x;
  return hex(u64buf[0], 16);
}
function fmtValue(t, v) {
  switch (t) {
    case 0x7f: return 'i32:' + (v | 0);
    case 0x7e: return 'i64:' + BigInt.asIntN(64, v);
    case 0x7d: return 'f32:' + fmtF32(v);
    case 0x7c: return 'f64:' + fmtF64(v);
    case 0x70: return 'ref:' + (v === null ? 'null' : 'func');
    case 0x6f: return 'ref:' + (v === null ? 'null' : 'extern');
    default: return 'unknown-type:' + t;
  }
}
function zeroOf(t) {
  switch (t) {
    case 0x7e: return 0n;
    case 0x70: case 0x6f: return null;
    default: return 0;
  }
}

// V8's trap messages, by class (the classes diff_host.c prints).
function trapClass(e) {
  const m = String(e && e.message);
  if (e instanceof RangeError && /call stack/i.test(m)) return 'stack';
  if (!(e instanceof WebAssembly.RuntimeError)) return 'other:' + m;
  if (/unreachable/.test(m)) return 'unreachable';
  if (/memory access out of bounds|data segment/.test(m)) return 'memory';
  if (/divide by zero|remainder by zero/.test(m)) return 'divzero';
  if (/unrepresentable/.test(m)) return 'intconv';
  if (/table|function signature|element segment|null function/.test(m)) return 'table';
  if (/out of memory|Out of memory/.test(m)) return 'oom';
  return 'other:' + m;
}

function memHash(mem) {
  if (!mem) return null;
  const b = new Uint8Array(mem.buffer);
  let h = 2166136261;
  for (let i = 0; i < b.length; i++) {
    h ^= b[i];
    h = Math.imul(h, 16777619) >>> 0;
  }
  return `mem ${b.length} ${h.toString(16).padStart(8, '0')}`;
}

// ---- run --------------------------------------------------------------------------
const file = process.argv[2];
if (!file) {
  console.error('usage: node run_node.mjs MODULE.wasm');
  process.exit(2);
}
const bytes = new Uint8Array(fs.readFileSync(file));
let module;
try {
  module = new WebAssembly.Module(bytes);
} catch (e) {
  out('load error ' + e.message);
  out('end');
  process.exit(0);
}
const funcTypes = parseModule(bytes);
const imports = {
  'fuzzing-support': {
    'log-i32': (x) => out('log i32 ' + x),
    'log-i64': (x) => out('log i64 ' + BigInt.asIntN(64, x)),
    'log-f32': (x) => out('log f32 ' + fmtF32(x)),
    'log-f64': (x) => out('log f64 ' + fmtF64(x)),
  },
};
let instance;
try {
  instance = new WebAssembly.Instance(module, imports);
} catch (e) {
  if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) out('instantiate trap ' + trapClass(e));
  else out('instantiate error ' + e.message);
  out('end');
  process.exit(0);
}
out('instantiate ok');

// Export order and function indices come from the binary, like sluice's
// sl_module_export order (WebAssembly.Module.exports keeps binary order too).
const exportsInfo = [];
{
  let pos = 8;
  const uleb = () => {
    let v = 0, shift = 0, b;
    do { b = bytes[pos++]; v += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return v;
  };
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = uleb();
    const end = pos + size;
    if (id === 7) {
      for (let n = uleb(); n > 0; n--) {
        const len = uleb();
        const nm = Buffer.from(bytes.subarray(pos, pos + len)).toString('utf8');
        pos += len;
        const kind = bytes[pos++];
        const index = uleb();
        exportsInfo.push({ name: nm, kind, index });
      }
    }
    pos = end;
  }
}

const ex = instance.exports;
const reset = ex.hangLimitInitializer;
for (const { name, kind, index } of exportsInfo) {
  if (kind !== 0 || name === 'hangLimitInitializer') continue;
  const type = funcTypes[index];
  if (reset) {
    try { reset(); } catch (e) { out('trap ' + trapClass(e)); }
  }
  out('call ' + name);
  let r;
  try {
    r = ex[name](...type.params.map(zeroOf));
  } catch (e) {
    out('trap ' + trapClass(e));
    const m = memHash(ex.memory);
    if (m) out(m);
    continue;
  }
  const vals = type.results.length === 1 ? [r] : type.results.length === 0 ? [] : [...r];
  out(['result', ...type.results.map((t, i) => fmtValue(t, vals[i]))].join(' '));
  const m = memHash(ex.memory);
  if (m) out(m);
}
out('end');
