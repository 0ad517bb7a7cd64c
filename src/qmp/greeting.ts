import { z } from 'zod';

/** What QEMU says about itself when a client connects (qmp-spec, "Server Greeting"). */
export interface QmpGreeting {
  version: { major: number; minor: number; micro: number; package: string };
  /** Protocol capabilities the server offers, e.g. `oob`. */
  capabilities: string[];
}

const greetingSchema = z.object({
  QMP: z.object({
    version: z.object({
      qemu: z.object({ major: z.number().int(), minor: z.number().int(), micro: z.number().int() }),
      package: z.string(),
    }),
    capabilities: z.array(z.string()),
  }),
});

export type GreetingParse = { ok: true; greeting: QmpGreeting } | { ok: false; detail: string };

export function parseGreeting(message: Record<string, unknown>): GreetingParse {
  const parsed = greetingSchema.safeParse(message);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return { ok: false, detail: `not a QMP greeting (${issue?.message ?? 'wrong shape'}${where}): ${JSON.stringify(message).slice(0, 120)}` };
  }
  const { version, capabilities } = parsed.data.QMP;
  return { ok: true, greeting: { version: { ...version.qemu, package: version.package }, capabilities } };
}

/** `7.2.22`, as an operator reads it. */
export function formatQemuVersion(greeting: QmpGreeting): string {
  const { major, minor, micro } = greeting.version;
  return `${major}.${minor}.${micro}`;
}
