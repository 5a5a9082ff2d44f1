import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DefTranslationError, translateDef } from '../../../../src/shared/hosts/apptainer-def';

const containers = path.resolve(__dirname, '../../../fixtures/posttrainbench/checkout/containers');
const defs = readdirSync(containers).filter((f) => f.endsWith('.def'));

function refused(text: string): DefTranslationError {
  try {
    translateDef(text, 'containers/x.def');
  } catch (err) {
    if (err instanceof DefTranslationError) return err;
    throw err;
  }
  throw new Error('translated what it should have refused');
}

describe('PostTrainBench container definitions as Dockerfiles', () => {
  it('translates every definition in the checkout', () => {
    expect(defs.length).toBeGreaterThanOrEqual(8);
    for (const name of defs) {
      const text = readFileSync(path.join(containers, name), 'utf8');
      const out = translateDef(text, `containers/${name}`);
      expect(out.from, name).toBe('nvidia/cuda:12.9.1-cudnn-devel-ubuntu22.04');
      expect(out.dockerfile.split('\n')[1], name).toBe(`FROM ${out.from}`);
      // %post as one script, run so that it stops at the first failure and logs each command.
      expect(out.dockerfile, name).toContain('RUN ["/bin/sh","-e","-x","/.ptw/post.sh"]');
      expect(out.generated['ptw/post.sh'], name).toMatch(/^chmod 1777 \/tmp\n/);
      expect(out.dockerfile, name).toContain('ENV PATH="/root/.local/bin:$PATH"');
      expect(out.steps, name).toBe(out.dockerfile.split('\n').filter((l) => /^[A-Z]+ /.test(l)).length);
      // Every %files source is a checkout file the context must carry.
      for (const f of out.files) expect(readFileSync(path.join(containers, '..', f.source)).length).toBeGreaterThan(0);
    }
  });

  it('keeps the post script byte for byte but its indentation, the files before it, the env after it', () => {
    const name = 'gemini_3_1.def';
    const text = readFileSync(path.join(containers, name), 'utf8');
    const out = translateDef(text, `containers/${name}`);
    expect(out.files).toEqual([
      { context: 'files/0/requirements-direct.txt', source: 'containers/requirements-direct.txt' },
    ]);
    const body = out.dockerfile;
    expect(body.indexOf('COPY ["files/0/requirements-direct.txt","/opt/requirements-direct.txt"]')).toBeGreaterThan(0);
    expect(body.indexOf('COPY ["files/0')).toBeLessThan(body.indexOf('RUN ["/bin/sh"'));
    expect(body.indexOf('RUN ["/bin/sh"')).toBeLessThan(body.indexOf('ENV PATH='));
    expect(body).toContain('NO_PROXY="localhost,127.0.0.1"');
    expect(body).toContain('LABEL "Version"="v1.0"');
    const postLines = text.split('\n').slice(text.split('\n').indexOf('%post') + 1);
    const firstCommand = postLines.find((l) => l.trim() !== '')!.trim();
    expect(out.generated['ptw/post.sh']!.split('\n')[0]).toBe(firstCommand);
    expect(out.generated['ptw/runscript']).toBe('#!/bin/sh\nexec python3 "$@"\n');
    expect(out.notes.join(' ')).toContain('not the entrypoint');
  });

  it('turns environment values into ENV with shell quoting kept', () => {
    const out = translateDef(
      [
        'Bootstrap: docker',
        'From: debian:12',
        '%environment',
        '  export A="x $HOME \\"q\\""',
        "  B='no $expansion'",
        '  export C=plain',
      ].join('\n'),
      'x.def',
    );
    expect(out.dockerfile).toContain('ENV A="x $HOME \\"q\\"" B="no \\$expansion" C="plain"');
    expect(out.steps).toBe(2);
  });

  it('refuses what it cannot translate, naming the line', () => {
    expect(refused('Bootstrap: library\nFrom: ubuntu:22.04\n').message).toBe(
      'containers/x.def line 1: Bootstrap: library cannot be built by Docker; only Bootstrap: docker definitions translate',
    );
    expect(refused('Bootstrap: docker\n').message).toMatch(/no From: image/);
    expect(refused('From: x\n').message).toMatch(/no Bootstrap: header/);
    expect(refused('Bootstrap: docker\nFrom: x\nStage: build\n').message).toMatch(/line 3: multi-stage/);
    expect(refused('Bootstrap: docker\nFrom: x\n%setup\n  touch /x\n').message).toMatch(
      /line 3: %setup cannot be translated: it runs on the build host/,
    );
    expect(refused('Bootstrap: docker\nFrom: x\n%frobnicate\n').message).toMatch(
      /line 3: %frobnicate is not an Apptainer section/,
    );
    expect(refused('Bootstrap: docker\nFrom: x\n%appinstall foo\n').message).toMatch(/SCIF apps/);
    expect(refused('Bootstrap: docker\nFrom: x\n%environment\n  export A=$(date)\n').message).toMatch(
      /line 4: a command substitution/,
    );
    expect(refused('Bootstrap: docker\nFrom: x\n%environment\n  source /opt/env.sh\n').message).toMatch(
      /line 4: .*not an export NAME=value/,
    );
    expect(refused('Bootstrap: docker\nFrom: x\n%files\n  /etc/shadow /x\n').message).toMatch(
      /line 4: \/etc\/shadow is a path on the build host/,
    );
    expect(refused('Bootstrap: docker\nFrom: x\n%files\n  ../secret /x\n').message).toMatch(/leaves the checkout/);
    expect(refused('Bootstrap: docker\nFrom: x\n%post\n  a\n%post\n  b\n').message).toMatch(
      /line 5: %post appears twice/,
    );
    expect(refused('garbage line\n').message).toMatch(/line 1: "garbage line" is neither/);
  });

  it('honours %post -c SHELL', () => {
    const out = translateDef('Bootstrap: docker\nFrom: x\n%post -c /bin/bash\n  echo hi\n', 'x.def');
    expect(out.dockerfile).toContain('RUN ["/bin/bash","-e","-x","/.ptw/post.sh"]');
  });
});
