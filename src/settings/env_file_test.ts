import assert from "node:assert/strict";
import { parseEnvFile, readEnvFile } from "./env_file.ts";

const FIXTURES = new URL("../../tests/fixtures/env/", import.meta.url).pathname;

Deno.test("readEnvFile() reads the shared fixture with the values systemd gives", async () => {
  const expected = JSON.parse(await Deno.readTextFile(`${FIXTURES}systemd.expected.json`));
  assert.deepEqual(readEnvFile(`${FIXTURES}systemd.env`), expected);
});

// The cases of systemd's own src/test/test-env-file.c (env_file_1, 2, 4, 5
// and 6, with the values its asserts expect) and the rules of
// systemd.exec(5), EnvironmentFile=.
Deno.test("parseEnvFile() gives the values of systemd's test-env-file.c and documented rules", () => {
  const cases: [string, Record<string, string>][] = [
    // env_file_1: "\" at the end of a line joins the next; an escaped blank stays.
    ["a=a\nb=b\\\nc\nd=d\\\ne\\\nf\ng=g\\ \nh=h\ni=i\\", {
      a: "a",
      b: "bc",
      d: "def",
      g: "g ",
      h: "h",
      i: "i",
    }],
    // env_file_2
    ["a=a\\\n", { a: "a" }],
    // env_file_4
    [
      '# Generated\n\nHWMON_MODULES="coretemp f71882fg"\n\n# For compatibility reasons\n\nMODULE_0=coretemp\nMODULE_1=f71882fg',
      { HWMON_MODULES: "coretemp f71882fg", MODULE_0: "coretemp", MODULE_1: "f71882fg" },
    ],
    // env_file_5
    ["a=\nb=", { a: "", b: "" }],
    // env_file_6: escapes unquoted, in single quotes, in double quotes.
    [
      "a=\\ \\n \\t \\x \\y \\' \n" +
      "b= \\$'                                  \n" +
      "c= ' \\n\\t\\$\\`\\\\\n'   \n" +
      'd= " \\n\\t\\$\\`\\\\\n"   \n',
      { a: " n t x y '", b: "$'", c: " \\n\\t\\$\\`\\\\\n", d: " \\n\\t$`\\\n" },
    ],
    // Comments only at the start of a line; # and ; anywhere else are values.
    ["# c\n  ; c\n\tA=x#y ;z\nB=a/#", { A: "x#y ;z", B: "a/#" }],
    // Blanks around name and value go, those inside and quoted stay.
    [" NAME = x  y \nC=\"  x  \"\nD=''", { NAME: "x  y", C: "  x  ", D: "" }],
    // No expansion, and later lines win.
    ["A=$HOME ${B}\nA=again", { A: "again" }],
    ["A=$HOME ${B}", { A: "$HOME ${B}" }],
    // A lone CR ends a line too; CRLF files read as LF files.
    ["A=1\r\nB=2\rC=3\r\n", { A: "1", B: "2", C: "3" }],
    // Quoted and unquoted parts make one value; a quote is one only where a value starts.
    ['A="x y"\'z\'w""', { A: 'x yzw""' }],
  ];
  for (const [text, expected] of cases) {
    assert.deepEqual(parseEnvFile(text), expected, JSON.stringify(text));
  }
});

Deno.test("parseEnvFile() refuses, naming the line, what systemd would drop or read differently by version", () => {
  const cases: [string, RegExp][] = [
    ["\ufeffMQTT_URL=mqtt://h\n", /^line 1: it starts with a byte order mark/],
    ["A=1\nexport B=2\n", /^line 2: "export B" is not a variable name/],
    ["A=1\n1A=2\n", /^line 2: "1A" is not a variable name/],
    ["A-B=1\n", /^line 1: "A-B" is not a variable name/],
    ["A B=1\n", /^line 1: "A B" is not a variable name/],
    ["A=1\nMQTT_URL\nB=2\n", /^line 2: expected NAME=value, not "MQTT_URL"$/],
    ["A=1\nB", /^line 2: expected NAME=value, not "B"$/],
    // systemd before 254 reads B=2 as part of the comment, 254 and later as a setting.
    ["# a comment \\\nB=2\n", /^line 1: a comment ends in "\\"/],
    ['A=1\nB="open\nC=3\n', /^line 2: the quote in the value of B is not closed$/],
    ["A='open", /^line 1: the quote in the value of A is not closed$/],
    ["A=1\nB=x\0y\n", /^line 2: expected text, not a NUL byte$/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseEnvFile(text), { message }, JSON.stringify(text));
  }
  // A backslash inside a comment, not at its end, takes only the next character.
  assert.deepEqual(parseEnvFile("# a \\ b \\\\\nA=1\n"), { A: "1" });
});

Deno.test("readEnvFile() names the file and the line, and refuses text that is not UTF-8", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/export.env`, "A=1\nexport B=2\n");
    assert.throws(
      () => readEnvFile(`${dir}/export.env`),
      {
        message: /^Invalid --env-file ".*\/export\.env" line 2: "export B" is not a variable name/,
      },
    );
    await Deno.writeFile(`${dir}/latin1.env`, new Uint8Array([0x41, 0x3d, 0xfc, 0x0a]));
    assert.throws(
      () => readEnvFile(`${dir}/latin1.env`),
      { message: /^Invalid --env-file ".*\/latin1\.env": expected UTF-8 text$/ },
    );
    assert.throws(
      () => readEnvFile(`${dir}/missing.env`),
      { message: /^Cannot read --env-file ".*\/missing\.env": file not found$/ },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
