import assert from "node:assert/strict";
import { Acknowledgements } from "./acknowledgements.ts";
import { type Output, RecordSink, type RecordSinkOptions, writeAll } from "./sink.ts";

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

// Sinks wired to one queue of acknowledgements, as the agent wires them.
function pipeline(outputs: Output[], options: RecordSinkOptions = {}) {
  const sinks: RecordSink[] = outputs.map((output) =>
    new RecordSink(output, {
      ...options,
      onWritten: (messages) => {
        options.onWritten?.(messages);
        acks.release();
      },
      onError: (error) => {
        acks.fail();
        options.onError?.(error);
      },
    })
  );
  // What each message held was given as, in the order acknowledged.
  const acked: unknown[] = [];
  const held: unknown[] = [];
  const acks = new Acknowledgements(sinks, {
    onAcknowledged: (messages) => acked.push(...held.splice(0, messages)),
  });
  // Holds the acknowledgement of the message just written, as `label`.
  const hold = (label?: unknown) => {
    held.push(label);
    acks.add();
  };
  return { sinks, sink: sinks[0], acks, acked, hold };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("RecordSink acknowledges a message only after its line is written", async () => {
  const output = new GatedOutput();
  const { sink, acks, acked, hold } = pipeline([output]);
  sink.write('{"n":1}');
  hold(1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(acked, [], "nothing acknowledged while the write is pending");
  await output.open();
  await acks.flush();
  assert.deepEqual(acked, [1]);
  assert.equal(output.written, '{"n":1}\n');
  assert.equal(sink.written, 1);
});

Deno.test("RecordSink gathers lines that arrive during a write into one batch, in order", async () => {
  const output = new GatedOutput();
  const { sink, acks, acked, hold } = pipeline([output]);
  for (let i = 0; i < 100; i++) {
    sink.write(`{"n":${i}}`);
    hold(i);
  }
  await new Promise((resolve) => setTimeout(resolve, 1));
  for (let i = 100; i < 200; i++) {
    sink.write(`{"n":${i}}`);
    hold(i);
  }
  while (acked.length < 200) await output.open();
  await acks.flush();
  const lines = output.written.trimEnd().split("\n").map((line) => JSON.parse(line).n);
  assert.deepEqual(lines, [...Array(200).keys()]);
  assert.deepEqual(acked, [...Array(200).keys()]);
  assert.ok(output.calls <= 3, `200 lines took ${output.calls} writes`);
});

Deno.test("RecordSink finishes partial writes before acknowledging", async () => {
  const output = new GatedOutput();
  output.maxPerWrite = 3;
  const { sink, acked, hold } = pipeline([output]);
  sink.write('{"long":"0123456789"}');
  hold(true);
  while (acked.length === 0) await output.open();
  assert.equal(output.written, '{"long":"0123456789"}\n');
});

Deno.test("RecordSink stops acknowledging after the output fails, and reports it once", async () => {
  const output = new GatedOutput();
  output.fail = new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
  const errors: Error[] = [];
  const { sink, acks, acked, hold } = pipeline([output], {
    onError: (error) => errors.push(error),
  });
  sink.write("{}");
  hold(1);
  await output.open();
  await acks.flush();
  sink.write("{}");
  hold(2);
  await output.open();
  await acks.flush();
  assert.deepEqual(acked, []);
  assert.equal(acks.unacknowledged, 1, "the dropped acknowledgement still counts");
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof Deno.errors.BrokenPipe);
});

Deno.test("RecordSink counts a message unacknowledged until its ack has run, during the write too", async () => {
  const output = new GatedOutput();
  const { sink, acks, hold } = pipeline([output]);
  sink.write("{}");
  hold();
  sink.write("{}");
  hold();
  assert.equal(acks.unacknowledged, 2);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(output.calls, 1, "the batch is being written");
  assert.equal(acks.unacknowledged, 2, "but is not acknowledged while its write is under way");
  await output.open();
  await acks.flush();
  assert.equal(acks.unacknowledged, 0);
});

Deno.test("RecordSink runs an acknowledgement without a line once earlier lines are written", async () => {
  const output = new GatedOutput();
  const { sink, acks, acked, hold } = pipeline([output]);
  sink.write("{}");
  hold("record");
  hold("ignored");
  await tick();
  assert.deepEqual(acked, []);
  await output.open();
  await acks.flush();
  assert.deepEqual(acked, ["record", "ignored"]);
});

Deno.test("a message is acknowledged only once its record and its dead letter are both written, in arrival order", async () => {
  const records = new GatedOutput();
  const deadLetters = new GatedOutput();
  const { sinks: [recordSink, deadSink], acks, acked, hold } = pipeline([records, deadLetters]);
  deadSink.write('{"reason":"not_json"}');
  hold("dead");
  recordSink.write('{"n":2}');
  hold("record");
  await tick();
  // The record is written first: its ack still waits for the dead letter before it.
  await records.open();
  await tick();
  assert.deepEqual(acked, []);
  assert.equal(recordSink.written, 1);
  await deadLetters.open();
  await acks.flush();
  assert.deepEqual(acked, ["dead", "record"]);
});

Deno.test("RecordSink syncs a written batch before it counts as written", async () => {
  const output = new GatedOutput();
  let synced: (() => void) | undefined;
  const syncing: Output = {
    write: (bytes) => output.write(bytes),
    syncData: () => new Promise<void>((resolve) => synced = resolve),
  };
  const { sink, acks, acked, hold } = pipeline([syncing], { sync: true });
  sink.write("{}");
  hold(1);
  await output.open();
  await tick();
  assert.equal(output.written, "{}\n");
  assert.ok(synced, "syncData was called after the write");
  assert.deepEqual(acked, [], "not acknowledged before the sync");
  synced();
  await acks.flush();
  assert.deepEqual(acked, [1]);
});

Deno.test("RecordSink reopens its output between batches, never inside one", async () => {
  const files: GatedOutput[] = [new GatedOutput()];
  const output: Output = {
    write: (bytes) => files.at(-1)!.write(bytes),
    reopen: () => {
      files.push(new GatedOutput());
    },
  };
  const { sink, acks, hold } = pipeline([output]);
  sink.write('{"n":1}');
  hold();
  await tick();
  assert.equal(files[0].calls, 1, "the first batch is being written");
  sink.reopen();
  sink.write('{"n":2}');
  hold();
  while (acks.unacknowledged > 0) {
    for (const file of files) await file.open();
  }
  assert.equal(files.length, 2);
  assert.equal(files[0].written, '{"n":1}\n', "the batch in flight finished in the old file");
  assert.equal(files[1].written, '{"n":2}\n', "the next batch went to the new one");
});

Deno.test("RecordSink writes a batch too large for one string, in chunks, and acknowledges it in order", async () => {
  // 600 records of 1 MiB: more than the longest string V8 can make.
  const mib = "x".repeat(1024 * 1024);
  const count = 600;
  // Each line's number and length, without keeping the 600 MiB.
  const lines: string[] = [];
  let prefix = "";
  let length = 0;
  let largest = 0;
  const decoder = new TextDecoder();
  const output: Output = {
    write(bytes) {
      largest = Math.max(largest, bytes.byteLength);
      for (let start = 0; start < bytes.byteLength;) {
        const newline = bytes.indexOf(10, start);
        const end = newline === -1 ? bytes.byteLength : newline;
        if (prefix.length < 8) {
          prefix += decoder.decode(bytes.subarray(start, Math.min(end, start + 8)));
        }
        length += end - start;
        if (newline === -1) break;
        lines.push(`${prefix.split(":")[0]}/${length}`);
        prefix = "";
        length = 0;
        start = newline + 1;
      }
      return Promise.resolve(bytes.byteLength);
    },
  };
  const { sink, acks, acked, hold } = pipeline([output]);
  for (let i = 0; i < count; i++) {
    sink.write(`${i}:${mib}`);
    hold(i);
  }
  await acks.flush();
  assert.equal(sink.failed, false);
  const expected = [...Array(count).keys()];
  assert.deepEqual(lines, expected.map((i) => `${i}/${String(i).length + 1 + mib.length}`));
  assert.deepEqual(acked, expected);
  assert.ok(largest <= 3 * 1024 * 1024, `one write of ${largest} bytes`);
});

Deno.test("RecordSink counts a message written only once its batch has reached the output", async () => {
  const output = new GatedOutput();
  let counted = 0;
  const { sink } = pipeline([output], { onWritten: (messages) => counted += messages });
  for (let i = 0; i < 400; i++) sink.write(`{"n":${i}}`);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(output.written, "", "the output is stalled");
  assert.equal(counted, 0);
  assert.equal(sink.written, 0);
  await output.open();
  await sink.flush();
  assert.equal(counted, 400);
  assert.equal(sink.written, 400);
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

Deno.test("RecordSink writes lines that span its buffers whole, a character never split", async () => {
  const chunks: Uint8Array[] = [];
  const output: Output = {
    write(bytes) {
      chunks.push(bytes.slice());
      return Promise.resolve(bytes.byteLength);
    },
  };
  // Two- to four-byte characters against buffers of 5 bytes.
  const lines = ["é", "", "abcdefghijk", "😀😀x", "€€€€", "z"];
  const { sink, acks, hold } = pipeline([output], { chunkSize: 5 });
  for (const line of lines) {
    sink.write(line);
    hold();
  }
  await acks.flush();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (const chunk of chunks) {
    assert.ok(chunk.byteLength <= 5, `a write of ${chunk.byteLength} bytes`);
    decoder.decode(chunk); // throws where a character was split
  }
  const text = chunks.map((chunk) => decoder.decode(chunk)).join("");
  assert.equal(text, lines.filter((line) => line !== "").map((line) => `${line}\n`).join(""));
  assert.equal(sink.written, lines.length);
});
