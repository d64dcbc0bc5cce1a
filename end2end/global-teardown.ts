// Removes the throwaway database directory the config created.
import { rmSync } from 'node:fs';

export default function globalTeardown(): void {
  const dir = process.env.QB_E2E_TMP;
  if (dir && dir.includes('quotaboard-e2e-')) {
    rmSync(dir, { recursive: true, force: true });
  }
}
