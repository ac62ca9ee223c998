// The documentation is read on GitHub and in a checkout: every link between
// its files, and every anchor into a heading, must lead somewhere.
import assert from "node:assert/strict";
import { ROOT } from "./_support/agent_process.ts";

/** The README's length at most, so that it stays a page a user reads. */
const README_MAX_LINES = 430;

interface Link {
  /** The file the link is in, relative to the repository. */
  from: string;
  /** The link's target as written. */
  target: string;
}

// Markdown files of the documentation, relative to the repository.
function _documents(): string[] {
  const docs = [...Deno.readDirSync(`${ROOT}docs`)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort();
  return ["README.md", ...docs];
}

// The text outside fenced code blocks and inline code, where a link is a link.
function _prose(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "")
    .replace(/`[^`\n]*`/g, "code");
}

function _localLinks(from: string): Link[] {
  const prose = _prose(Deno.readTextFileSync(`${ROOT}${from}`));
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => ({ from, target: match[1] }))
    .filter((link) => !/^[a-z][a-z0-9+.-]*:/i.test(link.target));
}

/** A heading's anchor as GitHub makes it. */
function _slug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

function _anchors(path: string): Set<string> {
  const markdown = Deno.readTextFileSync(`${ROOT}${path}`);
  const headings = [
    ...markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "").matchAll(
      /^#{1,6} (.+)$/gm,
    ),
  ];
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const heading of headings) {
    const slug = _slug(heading[1]);
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

// The target's path relative to the repository, with `..` and `.` resolved.
function _resolve(from: string, path: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const part of path.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "." && part !== "") parts.push(part);
  }
  return parts.join("/");
}

function _exists(path: string): boolean {
  try {
    Deno.statSync(`${ROOT}${path}`);
    return true;
  } catch {
    return false;
  }
}

Deno.test("_slug() makes GitHub's anchors of headings with code, colons and apostrophes", () => {
  assert.equal(_slug("Protecting `/metrics`"), "protecting-metrics");
  assert.equal(_slug("Delivery: what is guaranteed"), "delivery-what-is-guaranteed");
  assert.equal(_slug("The cost of `OUTPUT_SYNC=always`"), "the-cost-of-output_syncalways");
  assert.equal(_slug("Where each output's guarantee ends"), "where-each-outputs-guarantee-ends");
});

Deno.test("every local link and anchor in README.md and docs/*.md leads to a file and a heading", () => {
  const broken: string[] = [];
  let checked = 0;
  for (const from of _documents()) {
    for (const link of _localLinks(from)) {
      checked++;
      const [path, anchor] = link.target.split("#", 2);
      const file = path === "" ? from : _resolve(from, decodeURIComponent(path));
      if (!_exists(file)) {
        broken.push(`${from}: ${link.target}: no file ${file}`);
      } else if (anchor !== undefined && file.endsWith(".md") && !_anchors(file).has(anchor)) {
        broken.push(`${from}: ${link.target}: no heading #${anchor} in ${file}`);
      }
    }
  }
  assert.ok(checked > 50, `only ${checked} links found: the link pattern misses them`);
  assert.deepEqual(broken, []);
});

Deno.test("README.md stays a page a user reads: a table of contents, at most 430 lines", () => {
  const readme = Deno.readTextFileSync(`${ROOT}README.md`);
  const lines = readme.split("\n").length - (readme.endsWith("\n") ? 1 : 0);
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines`);
  assert.match(readme, /^## Contents$/m);
  assert.match(readme, /^## Troubleshooting$/m);
});
