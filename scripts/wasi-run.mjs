// Runs a wasm32-wasip1 program under Node's WASI module: node wasi-run.mjs PROGRAM.wasm ARGS...
// (used by scripts/matrix.sh). Exits with the program's exit code.
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";

const [program, ...args] = process.argv.slice(2);
// The host's file system is visible under the same absolute paths (`/` preopened as `/`): the
// test suite reads the project's sources by absolute path, and `--data /abs/file.csv` works.
const wasi = new WASI({
  version: "preview1",
  args: [program, ...args],
  env: {},
  preopens: { "/": "/" },
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(program));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
