import { z } from 'zod';

// Zod probes `new Function` to compile fast parsers; under `script-src 'self'` that probe is reported as a
// CSP violation even though zod catches it. Jitless mode skips the probe (zod v4 `globalConfig.jitless`).
z.config({ jitless: true });
