import { describe, expect, it } from "vitest";
import { redact } from "../../apply/redact";

describe("redact", () => {
  it("masks every occurrence of each secret, a secret given many times once", () => {
    expect(redact("key=abcd1234 again abcd1234", ["abcd1234", "abcd1234", "abcd1234"])).toBe("key=[secret] again [secret]");
  });

  it("masks a secret that contains a shorter one whole, whatever the order they come in", () => {
    expect(redact("token=s3cr3t-long-value", ["s3cr3t", "s3cr3t-long-value"])).toBe("token=[secret]");
  });

  it("leaves values under 4 characters: masking them would mask half the text", () => {
    expect(redact("a b c", ["a", "b"])).toBe("a b c");
  });
});
