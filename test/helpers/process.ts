// Runs a node as a separate OS process, as an operator would, and reads its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface NodeProcess {
  child: ChildProcess;
  port: number;
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

export async function startNodeProcess(entry: string, env: Record<string, string>): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, ...env, LOG_LEVEL: env.LOG_LEVEL_PROCESS ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entryLine = JSON.parse(line) as Record<string, unknown>;
        logs.push(entryLine);
        if (entryLine.msg === 'listening') resolve(entryLine.port as number);
      } catch {
        logs.push({ raw: line });
      }
    });
    exited.then((code) => reject(new Error(`node exited with ${code} before listening: ${JSON.stringify(logs)}`)));
  });
  return { child, port, logs, exited };
}
