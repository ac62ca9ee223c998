import assert from "node:assert/strict";
import { Acknowledgements } from "./acknowledgements.ts";
import { type Output, RecordSink } from "./sink.ts";

// An output whose writes complete only when the test opens it.
class Gate implements Output {
  text = "";
  #waiting: (() => void)[] = [];
  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve) =>
      this.#waiting.push(() => {
        this.text += new TextDecoder().decode(bytes);
        resolve(bytes.byteLength);
      })
    );
  }
  get pending(): number {
    return this.#waiting.length;
  }
  async open(): Promise<void> {
    while (this.#waiting.length > 0) {
      this.#waiting.shift()!();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function agentLike() {
  const records = new Gate();
  const deadLetters = new Gate();
  const acked: { messages: number; bytes: number }[] = [];
  const sinks = [records, deadLetters].map((output) =>
    new RecordSink(output, { onWritten: () => acks.release(), onError: () => acks.fail() })
  );
  const acks = new Acknowledgements(sinks, {
    onAcknowledged: (messages, bytes) => acked.push({ messages, bytes }),
  });
  const total = () => acked.reduce((sum, a) => sum + a.messages, 0);
  const bytes = () => acked.reduce((sum, a) => sum + a.bytes, 0);
  return { records, deadLetters, sinks, acks, acked, total, bytes };
}

Deno.test("Acknowledgements holds a record behind an earlier dead letter not yet written", async () => {
  const { records, deadLetters, sinks, acks, total, bytes } = agentLike();
  sinks[1].write("dead-1");
  acks.add(10);
  sinks[0].write("rec-2");
  acks.add(20);
  await tick();
  await records.open();
  await tick();
  assert.equal(total(), 0, "the record's message waits for the dead letter before it");
  await deadLetters.open();
  await acks.flush();
  await tick();
  assert.equal(total(), 2);
  assert.equal(bytes(), 30);
});

Deno.test("Acknowledgements hands on a message that wrote nothing only after what came before it", async () => {
  const { records, acks, sinks, acked, total, bytes } = agentLike();
  sinks[0].write("rec-1");
  acks.add(1);
  acks.add(2); // ignored topic: writes nothing
  sinks[0].write(""); // a format with no line for this record
  acks.add(4);
  await tick();
  assert.equal(total(), 0);
  await records.open();
  await acks.flush();
  await tick();
  assert.equal(total(), 3);
  assert.equal(bytes(), 7);
  assert.ok(acked.every((a) => a.messages > 0));
  acks.add(8); // nothing pending: at once
  assert.equal(total(), 4);
  assert.equal(bytes(), 15);
  assert.equal(acks.unacknowledged, 0);
});

Deno.test("Acknowledgements keeps marks and sizes in step past its first ring of 1024", async () => {
  const { records, deadLetters, acks, sinks, total, bytes } = agentLike();
  let expected = 0;
  // Opens both outputs until every acknowledgement is handed on.
  const drain = async () => {
    while (acks.unacknowledged > 0) {
      await records.open();
      await deadLetters.open();
      await tick();
    }
  };
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 900; i++) {
      const n = round * 900 + i;
      if (n % 7 === 0) sinks[1].write(`d${n}`);
      else sinks[0].write(`r${n}`);
      acks.add(n);
      expected += n;
    }
    if (round % 2 === 0) await drain();
  }
  await drain();
  assert.equal(total(), 4500);
  assert.equal(bytes(), expected);
  assert.equal(acks.unacknowledged, 0);
});
