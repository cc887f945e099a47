// Runs a program to its end and collects what it printed, without blocking the test process. A test worker that
// sits in spawnSync or execFileSync misses what vitest sends it meanwhile: on a busy machine a build or a
// package step takes over a minute, and the worker's pending report to vitest then times out ("Timeout calling
// onTaskUpdate"), which fails the whole run.
import { spawn } from 'node:child_process';

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Like `run`, but a non-zero exit is an error that says what the program printed. */
export async function runOrThrow(command: string, args: string[], options: Parameters<typeof run>[2] = {}) {
  const ran = await run(command, args, options);
  if (ran.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited with ${ran.status}:\n${ran.stdout}${ran.stderr}`);
  return ran;
}
