import { Observable } from 'rxjs';
import type { Clock } from '../core/clock.js';
import type { SessionNote } from '../core/events.js';
import { isReadingCommand } from '../hotplug/qmp-sender.js';
import type { QmpTraffic } from '../qmp/index.js';

export type QmpNote = Extract<SessionNote, { type: 'qmp.sent' | 'qmp.received' }>;

/**
 * A guest's QMP traffic as the session recording keeps it: every message, in order, except the
 * exchanges of a reading command (query-*, qom-get) whose answer is the same as the last time it
 * was asked. Those are the guest's polls, several a second, which say nothing new; a poll whose
 * answer changed is kept whole, command and reply. Events are left to `qmp.event`.
 */
export function recordedTraffic(guest: string, traffic$: Observable<QmpTraffic>, clock: Clock): Observable<QmpNote> {
  return new Observable<QmpNote>((subscriber) => {
    /** Reading commands sent and not answered yet, by id, with when they were sent. */
    const asked = new Map<unknown, { message: Record<string, unknown>; at: number; key: string }>();
    /** The last answer to each reading command (with its arguments). */
    const answers = new Map<string, string>();
    const note = (type: QmpNote['type'], message: Record<string, unknown>, at = clock.now()) => subscriber.next({ type, at, guest, message });
    return traffic$.subscribe({
      next: ({ direction, message }) => {
        if (direction === 'sent') {
          const command = typeof message.execute === 'string' ? message.execute : '';
          if (isReadingCommand(command)) asked.set(message.id, { message, at: clock.now(), key: JSON.stringify([command, message.arguments ?? null]) });
          else note('qmp.sent', message);
          return;
        }
        if (typeof message.event === 'string') return;
        // A new connection: what the last one left unanswered never will be.
        if ('QMP' in message) asked.clear();
        const question = 'id' in message ? asked.get(message.id) : undefined;
        if (!question) {
          note('qmp.received', message);
          return;
        }
        asked.delete(message.id);
        const answer = JSON.stringify('return' in message ? { return: message.return } : { error: message.error });
        if (answers.get(question.key) === answer) return;
        answers.set(question.key, answer);
        note('qmp.sent', question.message, question.at);
        note('qmp.received', message);
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
  });
}
