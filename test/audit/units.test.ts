import { expect } from "chai";
import fc from "fast-check";
import { getAddress, type Hex } from "viem";

import { BlockRangeSizer } from "../../src/audit/blockRangeSizer.ts";
import { runAuditCommand } from "../../src/cli/audit.ts";
import { createLedgerHasher } from "../../src/audit/ledgerHasher.ts";
import { NonceSet } from "../../src/audit/nonceSet.ts";
import { batchRoot, ledgerDomain, paymentId, refundId } from "../../src/protocol/index.ts";

const hex = (bytes: number) =>
  fc
    .uint8Array({ minLength: bytes, maxLength: bytes })
    .map((b): Hex => `0x${Buffer.from(b).toString("hex")}`);
const uint = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });

describe("audit building blocks", function () {
  it("the fast ledger hasher equals the protocol's payment ids, refund ids and batch roots (property)", async function () {
    const hasher = await createLedgerHasher(
      ledgerDomain(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3"),
    );
    const domain = ledgerDomain(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
    fc.assert(
      fc.property(
        fc.record({
          payer: hex(20).map((a) => getAddress(a)),
          payee: hex(20),
          payeeBank: fc.integer({ min: 0, max: 65_535 }),
          currency: fc.integer({ min: 0, max: 65_535 }),
          amount: uint(96),
          qrHash: hex(32),
          nonce: uint(48),
          deadline: uint(40),
        }),
        fc.record({ amount: uint(256), nonce: uint(256), deadline: uint(256) }),
        fc.array(hex(32), { minLength: 1, maxLength: 40 }),
        (payment, refund, ids) => {
          const id = paymentId(domain, payment);
          expect(hasher.paymentId(payment)).to.equal(id);
          expect(hasher.refundId({ paymentId: id, ...refund })).to.equal(
            refundId(domain, { paymentId: id, ...refund }),
          );
          expect(hasher.batchRoot(ids)).to.equal(batchRoot(ids));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a nonce set slides its base past used nonces and reports the ledger's bitmap", function () {
    const nonces = new NonceSet();
    expect(nonces.use(0n)).to.equal(true);
    expect(nonces.use(2n)).to.equal(true);
    expect([nonces.base, nonces.bitmap]).to.deep.equal([1n, 2n]);
    expect(nonces.use(2n)).to.equal(false);
    nonces.invalidateBelow(2n);
    expect([nonces.base, nonces.bitmap]).to.deep.equal([3n, 0n]);
    expect(nonces.use(1n)).to.equal(false);
    nonces.invalidateBelow(1n);
    expect(nonces.base).to.equal(3n);
  });

  it("a block range sizer halves on failure and on heavy answers, and doubles on light ones", function () {
    const sizer = new BlockRangeSizer({ initial: 100n, max: 400n, targetLogs: 1_000 });
    sizer.succeeded(10);
    expect(sizer.size).to.equal(200n);
    sizer.succeeded(10);
    sizer.succeeded(10);
    expect(sizer.size).to.equal(400n);
    sizer.succeeded(5_000);
    expect(sizer.size).to.equal(200n);
    sizer.succeeded(700);
    expect(sizer.size).to.equal(200n);
    expect(sizer.failed(30n)).to.equal(true);
    expect(sizer.size).to.equal(15n);
    for (let i = 0; i < 4; i++) sizer.failed();
    expect(sizer.size).to.equal(1n);
    expect(sizer.failed()).to.equal(false);
  });

  it("`qrsettle audit` exits 2 on usage errors and 1 when the deployment file cannot be read", async function () {
    const run = async (argv: string[]) => {
      const out: string[] = [];
      const code = await runAuditCommand(argv, { stdout: (l) => out.push(l), stderr: (l) => out.push(l) });
      return { code, text: out.join("\n") };
    };
    expect((await run([])).code).to.equal(2);
    expect(
      (await run(["--rpc", "http://127.0.0.1:1", "--deployment", "d.json", "--confirmations", "x"])).code,
    ).to.equal(2);
    expect((await run(["--unknown"])).code).to.equal(2);
    const help = await run(["--help"]);
    expect(help.code).to.equal(0);
    expect(help.text).to.match(/^Usage:/);
    const missing = await run([
      "--rpc",
      "http://127.0.0.1:1",
      "--deployment",
      "/nonexistent/deployment.json",
    ]);
    expect(missing.code).to.equal(1);
    expect(missing.text).to.match(/Cannot read the deployment file/);
  });
});
