import { describe, expect, it } from 'vitest';
import { isSoftwareGl } from '../../../../src/renderer/common/gl-detect';

describe('isSoftwareGl', () => {
  it('recognises software GL renderers by their names', () => {
    for (const name of [
      'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
      'Google SwiftShader',
      'llvmpipe (LLVM 15.0.6, 256 bits)',
      'softpipe',
      'Microsoft Basic Render Driver',
    ]) {
      expect(isSoftwareGl(name), name).toBe(true);
    }
  });

  it('takes real GPUs as hardware', () => {
    for (const name of [
      'ANGLE (NVIDIA, NVIDIA GeForce RTX 4090 (0x00002684) Direct3D11 vs_5_0 ps_5_0, D3D11)',
      'Apple M2 Pro',
      'Mesa Intel(R) UHD Graphics 620 (KBL GT2)',
      'AMD Radeon Pro 5500M OpenGL Engine',
    ]) {
      expect(isSoftwareGl(name), name).toBe(false);
    }
  });
});
