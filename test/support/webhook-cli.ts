/**
 * `countersign admission-webhook` run in-process for the CLI tests: captured stderr (the JSON log), a wait for its
 * "listening" line, and the ClusterImagePolicy build of the verb started on a loopback port.
 * @module
 */
import { PassThrough, Readable } from 'node:stream'
import { parseFlags } from '../../src/cli/args.js'
import { createPolicyAdmissionWebhookCommand } from '../../src/cli/commands/admission-policy.js'
import type { CliIO } from '../../src/cli/context.js'

/**
 * CLI streams for a verb run in `cwd`, with an empty environment and stdin; `stderr()` is what it has logged so far.
 *
 * @example
 * const { io, stderr } = captureIO(dir)
 * const code = command.run(parseFlags(argv, command.flags), io)
 */
export function captureIO(cwd: string): { io: CliIO; stderr: () => string } {
  const logged: Buffer[] = []
  const stderr = new PassThrough().on('data', (c: Buffer) => logged.push(c))
  const stdin = Readable.from([]) as unknown as NodeJS.ReadStream
  return {
    io: { stdout: new PassThrough(), stderr, stdin, env: {}, cwd },
    stderr: () => Buffer.concat(logged).toString(),
  }
}

/**
 * Wait (up to 10 s) for the webhook's "listening" log line; returns its `https://127.0.0.1:PORT`.
 *
 * @example
 * const url = await webhookURL(stderr)
 */
export async function webhookURL(stderr: () => string): Promise<string> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const m = /"msg":"admission webhook listening","port":(\d+)/.exec(stderr())
    if (m) return `https://127.0.0.1:${m[1]}`
    if (Date.now() > deadline) throw new Error(`server did not start: ${stderr()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * Start `countersign admission-webhook` (ClusterImagePolicy files) in `dir`: `tls.crt` / `tls.key` there, a random port
 * on 127.0.0.1, `--policy policies`, then `extra`. It stops when `stop` aborts; `code` is its exit code or start error.
 *
 * @example
 * const { code, stderr } = runPolicyWebhook(dir, ['--gatekeeper-client-ca', 'ca.crt'], stop.signal)
 * const url = await webhookURL(stderr)
 */
export function runPolicyWebhook(
  dir: string,
  extra: readonly string[],
  stop: AbortSignal,
): { code: Promise<number>; stderr: () => string } {
  const { io, stderr } = captureIO(dir)
  const command = createPolicyAdmissionWebhookCommand(stop)
  const argv = ['--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--port', '0', '--host', '127.0.0.1']
  const code = command.run(parseFlags([...argv, '--policy', 'policies', ...extra], command.flags), io)
  return { code, stderr }
}
