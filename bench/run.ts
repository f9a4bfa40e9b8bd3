// Benchmark runner: `npm run --silent bench -- <name>` loads bench/<name>.ts, whose default export
// returns the figures; they are printed as one JSON line. Benchmarks are measurements, never tests.
const name = process.argv[2];
if (!name || !/^[a-z0-9-]+$/.test(name)) {
  console.error('usage: npm run --silent bench -- <name>   (a file bench/<name>.ts)');
  process.exit(2);
}
const module = (await import(`./${name}.ts`)) as { default: () => Promise<Record<string, unknown>> };
const figures = await module.default();
console.log(JSON.stringify({ bench: name, ...figures }));
process.exit(0);
