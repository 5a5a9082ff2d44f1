/** UTF-8 byte helpers shared by main (live streams) and the renderer (writes into xterm). */

/**
 * Where `data` can be cut without splitting a UTF-8 character: `at` itself, or up to 3 bytes before it when `at`
 * falls inside one (a viewer that writes the pieces with something in between must get whole characters).
 */
export function utf8CutBefore(data: Uint8Array, at: number): number {
  if (at >= data.length) return data.length;
  let cut = at;
  while (cut > 0 && at - cut < 3 && (data[cut]! & 0xc0) === 0x80) cut--;
  return (data[cut]! & 0xc0) === 0x80 ? at : cut;
}
