// Under `make test` (BZ_SDK_STRICT=1) nothing may be skipped: a missing stack or vector file fails.
import { test } from "node:test";

export const strict = process.env.BZ_SDK_STRICT === "1";

export function testWhen(condition, reason, name, fn) {
  if (condition) {
    return test(name, fn);
  }
  if (strict) {
    return test(name, () => {
      throw new Error(`cannot run under BZ_SDK_STRICT=1: ${reason}`);
    });
  }
  return test(name, { skip: reason }, fn);
}
