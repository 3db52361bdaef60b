#!/usr/bin/env node
// dbm_kv.js - examples/dbm_kv.py in Node.js: a dbm-style key-value store in one
// append-only log, speaking powercut's exec protocol (docs/targets.md "exec protocol").
// Core modules only.
//
//   powercut campaign --target 'exec:cmd=node examples/dbm_kv.js,contract=durable_ack+process_safe+prefix+atomic_batch' ...
//
// The same store, byte for byte, as dbm_kv.py: DIR/kv.log is a sequence of records
// <u32 payload length> <u32 crc32> <payload>; a payload is one put/del or a whole batch:
// (b'P' klen key vlen value | b'D' klen key)*, little-endian. Why it keeps its contract,
// and why open rewrites the records it replayed (tmp + fsync + rename + fsync dir) before
// serving or appending anything: see dbm_kv.py. Requests are read synchronously from fd 0
// and every reply is one writeSync to fd 1, so a reply is never left in a buffer.
'use strict';
const fs = require('fs');
const path = require('path');

const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(b) {
  let c = -1;
  for (let i = 0; i < b.length; i++) c = CRC[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const unhex = (s) => (s === '-' ? Buffer.alloc(0) : Buffer.from(s, 'hex'));
const tohex = (b) => (b.length ? b.toString('hex') : '-');
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };

function writeAll(fd, buf) {
  for (let done = 0; done < buf.length;) done += fs.writeSync(fd, buf, done, buf.length - done);
}

function fsyncDir(d) {
  const fd = fs.openSync(d, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

function encode(ops) {
  const out = [];
  for (const [kind, k, v] of ops) {
    out.push(Buffer.from(kind), u32(k.length), k);
    if (kind === 'P') out.push(u32(v.length), v);
  }
  return Buffer.concat(out);
}

// Applies one record's ops to data (a Map from hex key to value); throws if it does not parse.
function decode(p, data) {
  const ops = [];
  let i = 0;
  while (i < p.length) {
    if (i + 5 > p.length) throw new Error('short op');
    const kind = String.fromCharCode(p[i]), kl = p.readUInt32LE(i + 1);
    if (i + 5 + kl > p.length) throw new Error('short key');
    const k = p.subarray(i + 5, i + 5 + kl);
    i += 5 + kl;
    if (kind === 'P') {
      if (i + 4 > p.length) throw new Error('short value length');
      const vl = p.readUInt32LE(i);
      if (i + 4 + vl > p.length) throw new Error('short value');
      ops.push([k, Buffer.from(p.subarray(i + 4, i + 4 + vl))]);
      i += 4 + vl;
    } else if (kind === 'D') {
      ops.push([k, null]);
    } else {
      throw new Error('bad op kind');
    }
  }
  for (const [k, v] of ops) {
    if (v === null) data.delete(k.toString('hex'));
    else data.set(k.toString('hex'), v);
  }
}

class Store {
  constructor(d) {
    this.data = new Map();
    this.broken = null;
    const file = path.join(d, 'kv.log');
    let fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    let off = 0;
    try {
      const buf = fs.readFileSync(fd);
      while (off + 8 <= buf.length) {
        const n = buf.readUInt32LE(off), crc = buf.readUInt32LE(off + 4);
        const p = buf.subarray(off + 8, off + 8 + n);
        if (n === 0 || p.length !== n || crc32(p) !== crc) break;
        try { decode(p, this.data); } catch (e) { break; }
        off += 8 + n;
      }
      if (buf.length) { // make what was read durable; a torn or garbage tail is left behind
        const tmp = file + '.tmp';
        const t = fs.openSync(tmp, 'w', 0o644);
        try { writeAll(t, buf.subarray(0, off)); fs.fsyncSync(t); } finally { fs.closeSync(t); }
        fs.renameSync(tmp, file);
        fs.closeSync(fd);
        fd = -1;
        fd = fs.openSync(file, fs.constants.O_RDWR);
      }
      fsyncDir(d);
    } catch (e) {
      if (fd >= 0) fs.closeSync(fd);
      throw e;
    }
    this.fd = fd;
    this.end = off; // every append goes at this offset (positional writes)
  }

  append(ops, sync) {
    if (this.broken) throw new Error(this.broken);
    const p = encode(ops);
    const rec = Buffer.concat([u32(p.length), u32(crc32(p)), p]);
    try {
      for (let done = 0; done < rec.length;)
        done += fs.writeSync(this.fd, rec, done, rec.length - done, this.end + done);
    } catch (e) {
      try { fs.ftruncateSync(this.fd, this.end); } // leave no partial record behind later ones
      catch (e2) { this.broken = 'log tail unrepairable: ' + e2.message; }
      throw e;
    }
    this.end += rec.length;
    decode(p, this.data);
    if (sync) this.sync();
  }

  sync() {
    if (this.broken) throw new Error(this.broken);
    try { fs.fsyncSync(this.fd); }
    catch (e) { this.broken = 'fsync failed earlier: ' + e.message; throw e; }
  }
}

// Synchronous line reader on fd 0: the lines of a batch are read before it is applied.
const inbuf = Buffer.alloc(1 << 16);
let pending = Buffer.alloc(0);
function readLine() {
  for (;;) {
    const nl = pending.indexOf(10);
    if (nl >= 0) {
      const line = pending.subarray(0, nl).toString();
      pending = pending.subarray(nl + 1);
      return line;
    }
    let n;
    try { n = fs.readSync(0, inbuf, 0, inbuf.length, null); }
    catch (e) { if (e.code === 'EAGAIN' || e.code === 'EINTR') continue; throw e; }
    if (n === 0) return null;
    pending = Buffer.concat([pending, inbuf.subarray(0, n)]);
  }
}

const reply = (s) => writeAll(1, Buffer.from(s + '\n'));

let store = null;
for (;;) {
  const line = readLine();
  if (line === null) process.exit(0); // EOF: the harness cut the power here; no close, no sync
  const w = line.split(' ');
  try {
    switch (w[0]) {
      case 'open': store = new Store(line.slice(5)); reply('ok'); break;
      case 'put': store.append([['P', unhex(w[1]), unhex(w[2])]], w[3] === '1'); reply('ok'); break;
      case 'del': store.append([['D', unhex(w[1]), null]], w[2] === '1'); reply('ok'); break;
      case 'batch': {
        const lines = [];
        for (let i = 0; i < Number(w[1]); i++) lines.push(readLine().split(' '));
        store.append(lines.map((s) => (s[0] === 'put' ? ['P', unhex(s[1]), unhex(s[2])] : ['D', unhex(s[1]), null])),
                     w[2] === '1');
        reply('ok');
        break;
      }
      case 'get': {
        const v = store.data.get(unhex(w[1]).toString('hex'));
        reply(v === undefined ? 'notfound' : 'ok ' + tohex(v));
        break;
      }
      case 'scan': {
        const keys = [...store.data.keys()].sort(); // lowercase hex sorts as the bytes do
        const out = keys.map((k) => 'kv ' + (k || '-') + ' ' + tohex(store.data.get(k)) + '\n');
        writeAll(1, Buffer.from(out.join('') + 'end\n'));
        break;
      }
      case 'sync': store.sync(); reply('ok'); break;
      case 'flush': reply('ok'); break;
      case 'close': fs.closeSync(store.fd); store = null; reply('ok'); break;
      default: reply('err unknown request ' + w[0]);
    }
  } catch (e) {
    reply('err ' + w[0] + ': ' + String(e.message).replace(/\n/g, ' '));
  }
}
