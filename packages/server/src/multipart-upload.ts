import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Busboy, type BusboyInstance } from '@fastify/busboy';
import { ApiError } from './api-error.js';
import { receiveUpload, type ReceivedUpload, type Workspace } from './workspace.js';

/** A `multipart/form-data` upload: its `file` part received to disk, its file name and `name` field. */
export interface MultipartUpload extends ReceivedUpload {
  /** The `file` part's file name as the client sent it (only a fallback for the table name). */
  filename: string;
  /** The form's `name` field, if any. */
  name: string | undefined;
}

/**
 * Reads a `multipart/form-data` body with `@fastify/busboy`, a streaming parser: the `file` part goes to
 * disk as it arrives (never whole in memory, unlike `Request.formData()`), cut with 413 at `limitBytes`,
 * which stops reading the request. Other file parts are discarded; only small text fields are kept.
 * @example const upload = await receiveMultipart(ws, c.req.raw, 1 << 30)
 */
export async function receiveMultipart(ws: Workspace, request: Request, limitBytes: number): Promise<MultipartUpload> {
  if (!request.body) throw new ApiError('invalid_request', 'the upload is empty: send a form with a "file" part', 400);
  const source = Readable.fromWeb(request.body as never);
  let form: BusboyInstance;
  try {
    form = Busboy({
      headers: { 'content-type': request.headers.get('content-type')! },
      limits: { files: 1, fields: 10, fieldSize: 1024 },
    });
  } catch (e) {
    throw new ApiError('invalid_request', `multipart/form-data: ${(e as Error).message}`, 400);
  }
  let received: Promise<ReceivedUpload> | undefined;
  let filename = '';
  let name: string | undefined;
  return new Promise<MultipartUpload>((resolve, reject) => {
    const fail = (e: unknown): void => {
      // Nothing more of the request is read: an upload past the limit is not received to its end.
      source.destroy();
      reject(e);
    };
    form.on('field', (field: string, value: string) => {
      if (field === 'name') name = value;
    });
    form.on('file', (field: string, stream: Readable, fname: string) => {
      if (field !== 'file' || received) return void stream.resume();
      filename = fname;
      received = receiveUpload(ws, stream, limitBytes);
      received.catch(fail);
    });
    pipeline(source, form).then(
      async () => {
        if (!received) return reject(new ApiError('invalid_request', 'multipart/form-data: no "file" part (curl -F file=@data.csv)', 400));
        try {
          resolve({ ...(await received), filename, name });
        } catch (e) {
          reject(e);
        }
      },
      (e: unknown) => fail(received ? e : new ApiError('invalid_request', `multipart/form-data: ${(e as Error).message}`, 400)),
    );
  });
}
