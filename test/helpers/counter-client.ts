// Typed calls to the test counter actor, over the bus (ActorClient) or through the gateway (HTTP).
import type { ActorClient } from '../../transport/envelope.js';
import { HomeserverHttp } from '../../client/http.js';
import { hs } from '../generated/proto.js';

const t = hs.testing;

export class CounterBusClient {
  constructor(private readonly actors: ActorClient) {}

  async add(counter: string, amount: number, seq = 0): Promise<hs.testing.AddReply> {
    return t.AddReply.decode(await this.actors.call('counter', counter, 'Add', t.AddRequest.encode({ counter, amount, seq }).finish()));
  }

  async bump(counter: string): Promise<hs.testing.AddReply> {
    return t.AddReply.decode(await this.actors.call('counter', counter, 'Bump', t.AddRequest.encode({ counter, amount: 1 }).finish()));
  }

  async get(counter: string): Promise<hs.testing.GetReply> {
    return t.GetReply.decode(await this.actors.call('counter', counter, 'Get', t.GetRequest.encode({ counter }).finish()));
  }

  async fail(counter: string, amount: number, asRefusal: boolean): Promise<void> {
    await this.actors.call('counter', counter, 'Fail', t.FailRequest.encode({ counter, amount, asRefusal }).finish());
  }

  async meet(counter: string, meeting: string, parties: number): Promise<void> {
    await this.actors.call('counter', counter, 'Meet', t.MeetRequest.encode({ counter, meeting, parties }).finish());
  }

  async delete(counter: string): Promise<void> {
    await this.actors.call('counter', counter, 'Delete', t.DeleteRequest.encode({ counter }).finish());
  }
}

export class CounterHttpClient {
  private readonly http: HomeserverHttp;

  constructor(baseUrl: string) {
    this.http = new HomeserverHttp(baseUrl);
  }

  add(counter: string, amount: number, seq = 0): Promise<hs.testing.AddReply> {
    return this.http.call('counter', 'Add', t.AddRequest, t.AddReply, { counter, amount, seq });
  }

  bump(counter: string): Promise<hs.testing.AddReply> {
    return this.http.call('counter', 'Bump', t.AddRequest, t.AddReply, { counter, amount: 1 });
  }

  get(counter: string): Promise<hs.testing.GetReply> {
    return this.http.call('counter', 'Get', t.GetRequest, t.GetReply, { counter });
  }
}
