import assert from "node:assert/strict";
import { type Output, RecordSink } from "./sink.ts";

// An output that reads the bytes only when its write completes, some turns
// later, as an asynchronous write does: a buffer reused before that shows.
class LateReader implements Output {
  bytes: number[] = [];
  calls = 0;
  async write(bytes: Uint8Array): Promise<number> {
    this.calls++;
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Takes at most 5 bytes per call, to exercise writeAll's loop too.
    const n = Math.min(bytes.byteLength, 5 + (this.calls % 7));
    this.bytes.push(...bytes.subarray(0, n));
    return n;
  }
}

function lineOf(seed: number): string {
  const alphabet = ["a", "é", "€", "😀", "\u{10FFFF}", '"', "\\", "\uFFFD"];
  let text = "";
  for (let i = 0; i < (seed * 7) % 23; i++) text += alphabet[(seed + i * 3) % alphabet.length];
  return JSON.stringify({ n: seed, s: text });
}

// Lines given as bytes come in one buffer that the caller reuses at once,
// as transformToOutput() does.
const scratch = new Uint8Array(1024);
const encoder = new TextEncoder();

function writeAsBytes(sink: RecordSink, line: string): void {
  const { written } = encoder.encodeInto(line, scratch);
  sink.write(scratch.subarray(0, written));
  scratch.fill(0x3f, 0, written);
}

for (const chunkSize of [4, 5, 7, 16, 64]) {
  Deno.test(`RecordSink writes lines with multi-byte characters, as text or as bytes in a reused buffer, exactly across ${chunkSize}-byte buffers, reused only once written`, async () => {
    const output = new LateReader();
    const sink = new RecordSink(output, { chunkSize });
    const expected: string[] = [];
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 30; i++) {
        const line = lineOf(round * 30 + i);
        expected.push(line);
        if (i % 3 === 0) writeAsBytes(sink, line);
        else sink.write(line);
      }
      // Let batches overlap: some written while others are encoded.
      await new Promise((resolve) => setTimeout(resolve, round));
    }
    // A line that fills a buffer to its last byte, then its newline.
    const exact = "x".repeat(chunkSize * 3);
    expected.push(exact, exact);
    sink.write(exact);
    writeAsBytes(sink, exact);
    await sink.flush();
    assert.equal(sink.written, expected.length);
    const text = new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(output.bytes));
    assert.equal(text, expected.map((line) => line + "\n").join(""));
  });
}
