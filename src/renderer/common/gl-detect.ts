/**
 * Which xterm renderer to use. WebGL is fastest on a real GPU, but on a software GL (Chromium's SwiftShader, Mesa's
 * llvmpipe) it renders ~20× slower than the DOM renderer (1.5 MB/s against ~29 MB/s measured on 2-core machines),
 * so there the DOM renderer is used.
 */

export type RendererKind = 'webgl' | 'dom';

/** What the WebGL renderer would run on: null when there is no WebGL2 at all. */
export function glRendererName(doc: Document): string | null {
  try {
    const canvas = doc.createElement('canvas');
    const gl = canvas.getContext('webgl2');
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return name;
  } catch {
    return null;
  }
}

/** SwiftShader (Chromium's fallback), Mesa's llvmpipe/softpipe, or anything calling itself software. */
export function isSoftwareGl(name: string): boolean {
  return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(name);
}

export function pickRenderer(doc: Document): { kind: RendererKind; why: string } {
  const name = glRendererName(doc);
  if (name === null) return { kind: 'dom', why: 'no WebGL2' };
  if (isSoftwareGl(name)) return { kind: 'dom', why: `software GL (${name})` };
  return { kind: 'webgl', why: name };
}
