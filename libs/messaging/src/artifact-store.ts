import { Inject, Injectable } from '@nestjs/common';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { NatsClient } from './nats-client';

/** The artifact store port (JetStream Object Store by default). Puts are content-addressed and idempotent. */
@Injectable()
export class ArtifactStore {
  private readonly buckets = new Map<string, Promise<ObjectStore>>();

  constructor(@Inject(NatsClient) private readonly nats: NatsClient) {}

  private bucket(name: string): Promise<ObjectStore> {
    let b = this.buckets.get(name);
    if (!b) {
      b = new Objm(this.nats.js).open(name);
      b.catch(() => this.buckets.delete(name));
      this.buckets.set(name, b);
    }
    return b;
  }

  /** Writes `text` under `key` unless an object of the same size is already there (same key = same content). */
  async putIfAbsent(bucket: string, key: string, text: string): Promise<void> {
    const store = await this.bucket(bucket);
    const bytes = new TextEncoder().encode(text);
    const existing = await store.info(key);
    if (existing && !existing.deleted && existing.size === bytes.length) return;
    await store.putBlob({ name: key }, bytes);
  }

  /**
   * Removes `key` for good: the Object Store purges its chunks (the bytes leave the stream) and
   * leaves a delete marker. Idempotent: an absent or already deleted key is fine.
   */
  async delete(bucket: string, key: string): Promise<void> {
    const store = await this.bucket(bucket);
    const existing = await store.info(key);
    if (!existing || existing.deleted) return;
    await store.delete(key);
  }

  async get(bucket: string, key: string): Promise<Uint8Array | null> {
    return (await this.bucket(bucket)).getBlob(key);
  }
}
