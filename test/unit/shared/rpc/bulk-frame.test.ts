import { describe, expect, it } from 'vitest';
import { BULK_FRAME_KIND, BULK_MIN_CHARS, bulkFieldOf, decodeBulkFrame } from '../../../../src/shared/rpc/wire';

const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

function frame(header: unknown, body: string, kind = BULK_FRAME_KIND): Uint8Array {
  const h = Buffer.from(JSON.stringify(header));
  const b = Buffer.from(body);
  const out = Buffer.alloc(5 + h.length + b.length);
  out[0] = kind;
  out.writeUInt32BE(h.length, 1);
  h.copy(out, 5);
  b.copy(out, 5 + h.length);
  return out;
}

describe('bulk text frames (wire.ts)', () => {
  it('picks only long text of the events that have a bulk field', () => {
    const long = 'x'.repeat(BULK_MIN_CHARS);
    expect(bulkFieldOf('live.data', { streamId: 's', data: long, offset: 0 })).toEqual({ field: 'data', value: long });
    // Bytes always: JSON has no bytes.
    const few = new Uint8Array([0x68, 0x69]);
    expect(bulkFieldOf('live.data', { streamId: 's', data: few, offset: 0 })).toEqual({ field: 'data', value: few });
    expect(bulkFieldOf('live.data', { streamId: 's', data: 'short', offset: 0 })).toBeNull();
    expect(bulkFieldOf('runs.changed', { data: long })).toBeNull();
    expect(bulkFieldOf('live.data', null)).toBeNull();
  });

  it('decodes a frame into the event message, the text put back in its field', () => {
    const text = '\x1b[1mbold\x1b[0m 漢字 🚀\r\n';
    const msg = decodeBulkFrame(
      frame({ t: 'evt', event: 'live.data', payload: { streamId: 's', offset: 9 }, bulk: 'data' }, text),
      decode,
    );
    expect(msg).toEqual({ t: 'evt', event: 'live.data', payload: { streamId: 's', offset: 9, data: text } });
  });

  it('gives a bytes field back as bytes, not decoded', () => {
    const text = 'é 漢字 🚀\r\n';
    const decoded: number[] = [];
    const msg = decodeBulkFrame(
      frame(
        { t: 'evt', event: 'live.data', payload: { streamId: 's', offset: 1 }, bulk: 'data', bulkAs: 'bytes' },
        text,
      ),
      (bytes) => {
        decoded.push(bytes.length);
        return decode(bytes);
      },
    ) as { payload: { data: Uint8Array; offset: number } };
    // Only the header went through the decoder.
    expect(decoded).toHaveLength(1);
    expect(msg.payload.offset).toBe(1);
    expect(msg.payload.data).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(msg.payload.data).toString()).toBe(text);
  });

  it('rejects what is not a well-formed bulk frame', () => {
    const header = { t: 'evt', event: 'live.data', payload: { streamId: 's', offset: 0 }, bulk: 'data' };
    expect(decodeBulkFrame(frame(header, 'x', 2), decode)).toBeNull();
    expect(decodeBulkFrame(new Uint8Array([BULK_FRAME_KIND, 0, 0]), decode)).toBeNull();
    const truncated = frame(header, 'x').subarray(0, 20);
    expect(decodeBulkFrame(truncated, decode)).toBeNull();
    expect(decodeBulkFrame(frame({ ...header, bulk: 'other' }, 'x'), decode)).toBeNull();
    expect(decodeBulkFrame(frame({ ...header, event: 'runs.changed' }, 'x'), decode)).toBeNull();
    expect(decodeBulkFrame(frame({ ...header, t: 'res' }, 'x'), decode)).toBeNull();
    const notJson = Buffer.from([BULK_FRAME_KIND, 0, 0, 0, 3, 0x7b, 0x7b, 0x7b, 0x78]);
    expect(decodeBulkFrame(notJson, decode)).toBeNull();
  });
});
