import assert from "node:assert/strict";
import { RecordSink, writeAll } from "./sink.ts";

// An output whose writes complete only when the test says so.
class GatedOutput {
  written = "";
  calls = 0;
  #gates: (() => void)[] = [];
  #decoder = new TextDecoder();
  maxPerWrite = Infinity;
  fail: Error | undefined;

  write(bytes: Uint8Array): Promise<number> {
    this.calls++;
    return new Promise((resolve, reject) => {
      this.#gates.push(() => {
        if (this.fail) return reject(this.fail);
        const n = Math.min(bytes.byteLength, this.maxPerWrite);
        this.written += this.#decoder.decode(bytes.subarray(0, n));
        resolve(n);
      });
    });
  }

  async open(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    while (this.#gates.length > 0) {
      this.#gates.shift()!();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}

Deno.test("RecordSink acknowledges a message only after its line is written", async () => {
  const output = new GatedOutput();
  const sink = new RecordSink(output);
  const acked: number[] = [];
  sink.write('{"n":1}');
  sink.afterWrite(() => acked.push(1));
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(acked, [], "nothing acknowledged while the write is pending");
  await output.open();
  await sink.flush();
  assert.deepEqual(acked, [1]);
  assert.equal(output.written, '{"n":1}\n');
  assert.equal(sink.linesWritten, 1);
});

Deno.test("RecordSink gathers lines that arrive during a write into one batch, in order", async () => {
  const output = new GatedOutput();
  const sink = new RecordSink(output);
  const acked: number[] = [];
  for (let i = 0; i < 100; i++) {
    sink.write(`{"n":${i}}`);
    sink.afterWrite(() => acked.push(i));
  }
  await new Promise((resolve) => setTimeout(resolve, 1));
  for (let i = 100; i < 200; i++) {
    sink.write(`{"n":${i}}`);
    sink.afterWrite(() => acked.push(i));
  }
  while (acked.length < 200) await output.open();
  await sink.flush();
  const lines = output.written.trimEnd().split("\n").map((line) => JSON.parse(line).n);
  assert.deepEqual(lines, [...Array(200).keys()]);
  assert.deepEqual(acked, [...Array(200).keys()]);
  assert.ok(output.calls <= 3, `200 lines took ${output.calls} writes`);
});

Deno.test("RecordSink finishes partial writes before acknowledging", async () => {
  const output = new GatedOutput();
  output.maxPerWrite = 3;
  const sink = new RecordSink(output);
  let acked = false;
  sink.write('{"long":"0123456789"}');
  sink.afterWrite(() => acked = true);
  while (!acked) await output.open();
  assert.equal(output.written, '{"long":"0123456789"}\n');
});

Deno.test("RecordSink stops acknowledging after the output fails, and reports it once", async () => {
  const output = new GatedOutput();
  output.fail = new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
  const errors: Error[] = [];
  const sink = new RecordSink(output, { onError: (error) => errors.push(error) });
  const acked: number[] = [];
  sink.write("{}");
  sink.afterWrite(() => acked.push(1));
  await output.open();
  await sink.flush();
  sink.write("{}");
  sink.afterWrite(() => acked.push(2));
  await output.open();
  await sink.flush();
  assert.deepEqual(acked, []);
  assert.equal(sink.unacknowledged, 1, "the dropped acknowledgement still counts");
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof Deno.errors.BrokenPipe);
});

Deno.test("RecordSink counts a message unacknowledged until its ack has run, during the write too", async () => {
  const output = new GatedOutput();
  const sink = new RecordSink(output);
  sink.write("{}");
  sink.afterWrite(() => {});
  sink.write("{}");
  sink.afterWrite(() => {});
  assert.equal(sink.unacknowledged, 2);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(sink.pending, 0, "the batch has left the queue");
  assert.equal(sink.unacknowledged, 2, "but is not acknowledged while its write is under way");
  await output.open();
  await sink.flush();
  assert.equal(sink.unacknowledged, 0);
});

Deno.test("RecordSink runs an acknowledgement without a line once earlier lines are written", async () => {
  const output = new GatedOutput();
  const sink = new RecordSink(output);
  const order: string[] = [];
  sink.write("{}");
  sink.afterWrite(() => order.push("record"));
  sink.afterWrite(() => order.push("dead letter"));
  await output.open();
  await sink.flush();
  assert.deepEqual(order, ["record", "dead letter"]);
});

Deno.test("writeAll() loops until every byte is written", async () => {
  const chunks: number[] = [];
  await writeAll({
    write: (bytes) => {
      chunks.push(Math.min(bytes.byteLength, 4));
      return Promise.resolve(Math.min(bytes.byteLength, 4));
    },
  }, new Uint8Array(10));
  assert.deepEqual(chunks, [4, 4, 2]);
});
