// The generated types must be what openapi-typescript makes of the committed openapi.yaml today.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

test("src/openapi.ts is generated from the committed openapi.yaml", () => {
  const scratch = mkdtempSync(join(tmpdir(), "bzapper-sdk-"));
  try {
    const fresh = join(scratch, "openapi.ts");
    execFileSync(
      join(root, "node_modules", ".bin", "openapi-typescript"),
      [join(root, "..", "..", "openapi.yaml"), "--output", fresh],
      { cwd: root, stdio: "pipe" },
    );
    const committed = readFileSync(join(root, "src", "openapi.ts"), "utf8");
    assert.ok(
      committed === readFileSync(fresh, "utf8"),
      "sdk/typescript/src/openapi.ts is stale: run `make openapi` (or `npm run generate` in sdk/typescript) and commit it",
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
