// Writes a .gz beside every compressible file of dist/ so that cinfer can send
// pre-compressed bodies (Content-Encoding: gzip) without compressing per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = new URL('../dist/', import.meta.url).pathname;
const compressible = /\.(js|css|html|svg|json|txt|map)$/;
let raw = 0;
let gz = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (compressible.test(name)) {
      const data = readFileSync(path);
      const packed = gzipSync(data, { level: 9 });
      writeFileSync(`${path}.gz`, packed);
      raw += data.length;
      gz += packed.length;
    }
  }
}
walk(root);
console.log(`compress: ${(raw / 1024).toFixed(0)} KiB -> ${(gz / 1024).toFixed(0)} KiB gzipped`);
