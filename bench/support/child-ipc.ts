import type { ChildProcess } from 'node:child_process';

/**
 * Sends `message` to a benchmark child over IPC (none when null: waiting for what it sends by itself, such as
 * `ready`) and waits for its first reply of type `replyType`.
 */
export function ask<T>(
  child: ChildProcess,
  message: object | null,
  replyType: string,
  timeoutMs = 600_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${replyType} from child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (reply: { type: string }) => {
      if (reply.type !== replyType) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(reply as T);
    };
    child.on('message', onMessage);
    if (message) child.send(message);
  });
}
