/**
 * A lean SMTP sink in its own process, so the harness's inserts and sampling never delay
 * an SMTP reply or a timestamp. It keeps only what the figures need: the recipient, the
 * accept time (epoch ms, sub-ms precision) and the size of each accepted message.
 * Talks to the parent over IPC (see sink.ts for the protocol).
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

import { SMTPServer } from 'smtp-server';

import type { SinkReply, SinkRequest } from './sink.js';

const recipients: string[] = [];
const times: number[] = [];
let bytes = 0;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  disableReverseLookup: true,
  logger: false,
  closeTimeout: 200,
  maxClients: 1000,
  onData(stream, session, callback) {
    let size = 0;
    stream.on('data', (chunk: Buffer) => (size += chunk.length));
    stream.on('end', () => {
      times.push(performance.timeOrigin + performance.now());
      recipients.push(session.envelope.rcptTo[0]?.address ?? '');
      bytes += size;
      callback();
    });
  },
});
server.on('error', () => undefined);

function reply(msg: SinkReply): void {
  process.send?.(msg);
}

process.on('message', (msg: SinkRequest) => {
  switch (msg.cmd) {
    case 'count':
      reply({ id: msg.id, count: times.length, bytes, cpuMs: cpuMs() });
      break;
    case 'records': {
      // Sent in slices so a 200 000-row answer does not block the channel in one piece.
      const from = msg.from ?? 0;
      const to = Math.min(times.length, from + 50_000);
      reply({ id: msg.id, count: times.length, bytes, cpuMs: cpuMs(), recipients: recipients.slice(from, to), times: times.slice(from, to) });
      break;
    }
    case 'reset':
      recipients.length = 0;
      times.length = 0;
      bytes = 0;
      reply({ id: msg.id, count: 0, bytes: 0, cpuMs: cpuMs() });
      break;
    case 'close':
      server.close(() => process.exit(0));
      break;
  }
});

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

server.listen(0, '127.0.0.1', () => {
  const { port } = server.server.address() as AddressInfo;
  reply({ id: 0, port, count: 0, bytes: 0, cpuMs: 0 });
});
