import { describe, expect, it } from "vitest";
import {
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  fromFloat16Bits,
  toFloat16Bits,
} from "./safetensors.js";

/** A file built by hand, byte by byte, as the spec describes (independent of the encoder). */
function handMadeFile(header: string, data: number[], headerLength = header.length): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe("float16", () => {
  // Bit patterns worked out by hand: sign | (exponent + 15) << 10 | mantissa·1024.
  const cases: [number, number][] = [
    [1, 0x3c00], // 2^0: exponent 15 → 0b01111 << 10
    [-2, 0xc000], // sign, exponent 16
    [0.5, 0x3800],
    [65504, 0x7bff], // largest finite: (2 − 2^-10)·2^15
    [2 ** -14, 0x0400], // smallest normal, 6.103515625e-5
    [2 ** -24, 0x0001], // smallest subnormal, 5.96e-8
    [1023 * 2 ** -24, 0x03ff], // largest subnormal, 6.0975551605e-5
    [0.333251953125, 0x3555], // 1/3 rounded: 1.0101010101b · 2^-2
    [0, 0x0000],
    [-0, 0x8000],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ];
  it.each(cases)("%d ↔ 0x%s", (value, bits) => {
    expect(toFloat16Bits(value)).toBe(bits);
    expect(Object.is(fromFloat16Bits(bits), value)).toBe(true);
  });

  it("rounds to nearest, ties to even", () => {
    expect(toFloat16Bits(6.1e-5)).toBe(0x03ff); // 6.1e-5·2^24 = 1023.4 → subnormal 1023
    expect(toFloat16Bits(0.1)).toBe(0x2e66); // 1.6·2^-4: 0.6·1024 = 614.4 → 614 = 0x266
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway between m=0 and m=1 → even 0
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway between m=1 and m=2 → even 2
    expect(toFloat16Bits(2 ** -25)).toBe(0x0000); // halfway between 0 and the smallest subnormal
    expect(toFloat16Bits(3 * 2 ** -25)).toBe(0x0002); // 1.5 subnormal units → 2
    expect(toFloat16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // 1023.5 units → 1024 = smallest normal
    expect(toFloat16Bits(65519)).toBe(0x7bff); // just below the halfway point to 65536
    expect(toFloat16Bits(65520)).toBe(0x7c00); // halfway, ties to even = 2^16 → overflow to ∞
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(toFloat16Bits(-1e-9)).toBe(0x8000);
    expect(toFloat16Bits(NaN)).toBe(0x7e00);
    expect(fromFloat16Bits(0x7e00)).toBeNaN();
  });

  it("every finite half value survives a round trip", () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue; // inf / nan
      expect(toFloat16Bits(fromFloat16Bits(h))).toBe(h);
    }
  });
});

describe("safetensors", () => {
  it("decodes a file built by hand from the spec", () => {
    // 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0 (little-endian IEEE 754).
    const header = '{"__metadata__":{"a":"b"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const file = handMadeFile(header, [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
    const { tensors, metadata } = decodeSafetensors(file, "hand.safetensors");
    expect(metadata).toEqual({ a: "b" });
    expect(tensors).toHaveLength(1);
    expect(tensors[0].name).toBe("w");
    expect(tensors[0].shape).toEqual([2]);
    expect(Array.from(tensors[0].data)).toEqual([1, -2]);
  });

  it("encodes with an 8-byte aligned, space-padded header and contiguous data", () => {
    const file = encodeSafetensors(
      [
        { name: "b", data: new Float32Array([1, -2]), shape: [2] },
        { name: "a", data: new Float64Array([0.5]), shape: [1, 1] },
      ],
      { spec: "x" },
    );
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n)));
    expect(header).toEqual({
      __metadata__: { spec: "x" },
      b: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      a: { dtype: "F64", shape: [1, 1], data_offsets: [8, 16] },
    });
    expect(file.length).toBe(8 + n + 16);
    expect(Array.from(file.subarray(8 + n, 8 + n + 8))).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
  });

  it("round-trips F32, F64 and F16 tensors and metadata", () => {
    const f32 = new Float32Array([0.1, -3.5, 1e-8, 123456.789]);
    const f64 = new Float64Array([Math.PI, -1e-300, 7]);
    const half = new Float32Array([1, -2, 65504, 6.1e-5, 0.1]);
    const file = encodeSafetensors(
      [
        { name: "W1", data: f32, shape: [2, 2] },
        { name: "b1", data: f64, shape: [3] },
        { name: "h", data: half, shape: [5], dtype: "F16" },
        { name: "empty", data: new Float32Array(0), shape: [0, 4] },
      ],
      { kind: "two-layer", note: "ünïcode ✓" },
    );
    const { tensors, metadata } = decodeSafetensors(file, "x.safetensors");
    expect(metadata).toEqual({ kind: "two-layer", note: "ünïcode ✓" });
    expect(tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ["W1", "F32", [2, 2]],
      ["b1", "F64", [3]],
      ["h", "F16", [5]],
      ["empty", "F32", [0, 4]],
    ]);
    expect(tensors[0].data).toEqual(f32);
    expect(tensors[1].data).toEqual(f64);
    expect(tensors[1].data).toBeInstanceOf(Float64Array);
    // Values of the half tensor as float16 holds them (worked out by hand above).
    expect(Array.from(tensors[2].data)).toEqual([1, -2, 65504, 1023 * 2 ** -24, 1638 * 2 ** -14]);
  });

  it("refuses bad input to the encoder", () => {
    expect(() => encodeSafetensors([{ name: "w", data: new Float32Array(3), shape: [2, 2] }])).toThrow(
      /"w".*needs 4 values, got 3/,
    );
    const t = { name: "w", data: new Float32Array(1), shape: [1] };
    expect(() => encodeSafetensors([t, t])).toThrow(/duplicate tensor name "w"/);
    expect(() => encodeSafetensors([{ ...t, name: "__metadata__" }])).toThrow(/reserved/);
  });

  describe("corrupt files are refused with the file name and the problem", () => {
    const good = encodeSafetensors(
      [
        { name: "W", data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] },
        { name: "b", data: new Float32Array([5, 6]), shape: [2] },
      ],
      { m: "1" },
    );
    const hdr = (header: string, dataBytes: number) =>
      handMadeFile(header, new Array<number>(dataBytes).fill(0));
    const cases: [string, Uint8Array, RegExp][] = [
      ["empty file", new Uint8Array(0), /m\.safetensors: truncated: 0 bytes/],
      ["7 bytes", good.subarray(0, 7), /truncated: 7 bytes/],
      ["cut in the header", good.subarray(0, 20), /header length \d+ goes beyond the file \(20 bytes\)/],
      [
        "cut in the data",
        good.subarray(0, good.length - 3),
        /truncated: the tensors need 24 data bytes, the file has 21/,
      ],
      [
        "trailing bytes",
        new Uint8Array([...good, 0, 0, 0, 0]),
        /4 bytes after the last tensor are not indexed/,
      ],
      [
        "huge header length",
        handMadeFile("{}", [], 2 ** 40),
        /header length 1099511627776 goes beyond the file/,
      ],
      ["not JSON", handMadeFile('{"W": nope}', []), /header is not valid JSON/],
      ["not starting with {", handMadeFile("[1,2]", []), /does not start with "\{"/],
      [
        "unknown dtype",
        hdr('{"W":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}}', 4),
        /tensor "W": unknown dtype "F99"; zerodl reads F16, F32, F64/,
      ],
      [
        "unsupported dtype",
        hdr('{"W":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', 8),
        /tensor "W": unsupported dtype "I64"/,
      ],
      [
        "shape × dtype ≠ byte range",
        hdr('{"W":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}', 12),
        /tensor "W": shape \[2, 2\] of F32 needs 16 bytes, but data_offsets \[0, 12\] hold 12/,
      ],
      [
        "overlapping offsets",
        hdr(
          '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
          12,
        ),
        /tensor "b" data_offsets \[4, 12\] overlap the previous tensor/,
      ],
      [
        "gap between tensors",
        hdr(
          '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}',
          12,
        ),
        /gap in the data before tensor "b" \(bytes 4–8 unused\)/,
      ],
      [
        "not starting at 0",
        hdr('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8),
        /gap in the data before tensor "a" \(bytes 0–4/,
      ],
      [
        "reversed offsets",
        hdr('{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}', 4),
        /data_offsets \[4,0\] is not \[begin, end\]/,
      ],
      [
        "bad shape",
        hdr('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4),
        /shape \[-1\] is not a list/,
      ],
      ["metadata not strings", hdr('{"__metadata__":{"n":1}}', 0), /__metadata__ "n" is not a string/],
      ["metadata an array", hdr('{"__metadata__":["a"]}', 0), /__metadata__ is not an object/],
      [
        "two tensors of one name",
        hdr(
          '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
          8,
        ),
        /m\.safetensors: header has the key "a" twice$/,
      ],
      [
        "one name twice, once escaped",
        hdr(
          '{"ab":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0061b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
          4,
        ),
        /header has the key "ab" twice/,
      ],
      [
        "a metadata key twice",
        hdr('{"__metadata__":{"k":"1","k":"2"}}', 0),
        /header has the key "k" twice in "__metadata__"/,
      ],
      [
        "a field twice in an entry",
        hdr('{"a":{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}}', 4),
        /header has the key "shape" twice in "a"/,
      ],
      [
        "an unknown field in an entry",
        hdr('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"offset":0}}', 4),
        /tensor "a": unknown field "offset" \(an entry has dtype, shape, data_offsets\)/,
      ],
      ["an entry that is an array", hdr('{"a":["F32",[1],[0,4]]}', 4), /tensor "a": entry is not an object/],
      [
        "a dimension that overflows to infinity",
        hdr('{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}', 4),
        /shape \[null\] is not a list of non-negative integers/,
      ],
      [
        "offsets past 2^53",
        hdr('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,9007199254740993]}}', 4),
        /data_offsets \[0,9007199254740992\] is not \[begin, end\]/,
      ],
    ];
    it.each(cases)("%s", (_what, bytes, message) => {
      expect(() => decodeSafetensors(bytes, "m.safetensors")).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(bytes, "m.safetensors")).toThrow(message);
    });
    it("a header over the 100 MB limit", () => {
      const big = new Uint8Array(8 + 100_000_001);
      new DataView(big.buffer).setBigUint64(0, 100_000_001n, true);
      expect(() => decodeSafetensors(big, "m.safetensors")).toThrow(
        new SafetensorsError("m.safetensors: header length 100000001 is over the 100 MB limit"),
      );
    });
    it("non-finite values, when the caller asks for finite ones (model weights)", () => {
      const file = encodeSafetensors([
        { name: "W", data: new Float32Array([1, NaN, Infinity, 2]), shape: [4] },
      ]);
      expect(decodeSafetensors(file, "m.safetensors").tensors[0].data[1]).toBeNaN();
      expect(() => decodeSafetensors(file, "m.safetensors", { finite: true })).toThrow(
        new SafetensorsError(
          'm.safetensors: tensor "W" has 2 non-finite values (the first, NaN, at index 1)',
        ),
      );
    });
    it("the good file itself decodes", () => {
      expect(decodeSafetensors(good, "m.safetensors").tensors).toHaveLength(2);
    });
  });
});
