/**
 * A "Postgres server" that is a man in the middle. It accepts the SSLRequest ('S') and completes the
 * TLS handshake with the self-signed certificate of test/fixtures/tls (CN=impostor.invalid), or takes the startup in
 * the clear, then asks for the password in clear text (AuthenticationCleartextPassword, as any server may) and
 * records what it got. It records CancelRequests too, with whether they came over TLS.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

export interface Captured {
  kind: 'password' | 'cancel' | 'probe';
  tls: boolean;
  user?: string;
  value?: string;
}

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const GSSENC_REQUEST = 80877104;

export interface Impostor {
  port: number;
  captured: Captured[];
  /** How to treat the next SSLRequest: 'S' (TLS), 'N' (refuse), 'drop' (close without answering), 'silent' (never answer). */
  sslAnswers: Array<'S' | 'N' | 'drop' | 'silent'>;
  close(): Promise<void>;
}

const fixture = (name: string) => readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url));

/** Listens on `address` (any free port unless given); `impostor.port` is the port it got. */
export async function startPgImpostor(address = '127.0.0.1', port = 0): Promise<Impostor> {
  const key = fixture('self-signed-key.pem');
  const cert = fixture('self-signed-cert.pem');
  const captured: Captured[] = [];
  const sockets = new Set<net.Socket>();
  const impostor: Impostor = { port, captured, sslAnswers: [], close: async () => {} };

  /** Reads length-prefixed messages; `typed`: the message has a type byte first (after the startup). */
  function reader(socket: net.Socket | tls.TLSSocket, onTyped: (type: string, body: Buffer) => void) {
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 5) {
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) return;
        const type = String.fromCharCode(buffer[0]!);
        const body = buffer.subarray(5, 1 + length);
        buffer = buffer.subarray(1 + length);
        onTyped(type, body);
      }
    });
  }

  function afterStartup(socket: net.Socket | tls.TLSSocket, startup: Buffer, isTls: boolean) {
    // startup: int32 len, int32 protocol, then key\0value\0 pairs.
    const pairs = startup.subarray(8).toString('utf8').split('\0');
    const user = pairs[pairs.indexOf('user') + 1];
    // AuthenticationCleartextPassword
    const ask = Buffer.alloc(9);
    ask.write('R', 0);
    ask.writeInt32BE(8, 1);
    ask.writeInt32BE(3, 5);
    socket.write(ask);
    reader(socket, (type, body) => {
      if (type !== 'p') return;
      captured.push({ kind: 'password', tls: isTls, user, value: body.toString('utf8').replace(/\0$/, '') });
      const fields = Buffer.from('SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "x"\0\0', 'utf8');
      const error = Buffer.alloc(5);
      error.write('E', 0);
      error.writeInt32BE(4 + fields.length, 1);
      socket.end(Buffer.concat([error, fields]));
    });
  }

  /** Collects one untyped (startup-phase) packet: int32 length first. */
  function firstPacket(socket: net.Socket | tls.TLSSocket, isTls: boolean) {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 8) return;
      const length = buffer.readInt32BE(0);
      if (buffer.length < length) return;
      socket.off('data', onData);
      const packet = buffer.subarray(0, length);
      const code = packet.readInt32BE(4);
      if (code === SSL_REQUEST) {
        captured.push({ kind: 'probe', tls: isTls });
        const answer = impostor.sslAnswers.shift() ?? 'S';
        if (answer === 'drop') {
          socket.destroy();
          return;
        }
        if (answer === 'silent') return;
        socket.write(answer);
        if (answer === 'N') {
          firstPacket(socket, false);
          return;
        }
        const secure = new tls.TLSSocket(socket, { isServer: true, key, cert });
        secure.on('error', () => {});
        firstPacket(secure, true);
        return;
      }
      if (code === GSSENC_REQUEST) {
        socket.write('N');
        firstPacket(socket, isTls);
        return;
      }
      if (code === CANCEL_REQUEST) {
        captured.push({
          kind: 'cancel',
          tls: isTls,
          value: `pid=${packet.readInt32BE(8)} key=${packet.readInt32BE(12)}`,
        });
        socket.end();
        return;
      }
      afterStartup(socket, packet, isTls);
    };
    socket.on('data', onData);
  }

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    firstPacket(socket, false);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  impostor.port = (server.address() as net.AddressInfo).port;
  impostor.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return impostor;
}
