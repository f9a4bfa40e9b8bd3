// A fresh PostgreSQL database per test file, dropped afterwards, so runs never share state.
import { MikroORM } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';

export const POSTGRES_SERVER = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432';

async function admin<T>(work: (orm: MikroORM) => Promise<T>): Promise<T> {
  const orm = await MikroORM.init({ clientUrl: `${POSTGRES_SERVER}/postgres`, entities: [], discovery: { warnWhenNoEntities: false }, allowGlobalContext: true });
  try {
    return await work(orm);
  } finally {
    await orm.close();
  }
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `hs_test_${randomBytes(6).toString('hex')}`;
  await admin((orm) => orm.em.getConnection().execute(`create database ${name}`));
  return {
    url: `${POSTGRES_SERVER}/${name}`,
    drop: () => admin((orm) => orm.em.getConnection().execute(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}
