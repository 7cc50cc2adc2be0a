import { expect } from "chai";
import { network } from "hardhat";
import {
  createPublicClient,
  custom,
  http,
  HttpRequestError,
  parseEther,
  RpcRequestError,
  TimeoutError,
  type Hex,
  type PublicClient,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import {
  classifyRpcError,
  isAlreadySubmitted,
  isAmbiguous,
  type RpcErrorClass,
} from "../../src/relayer/chain/classifyRpcError.ts";
import { startAnvil, type AnvilNode } from "../helpers/anvil.ts";
import { first } from "./helpers/network.ts";

/** A JSON-RPC error as viem raises it, with the node's message in `details`. */
const rpcError = (message: string) =>
  new RpcRequestError({
    body: { method: "eth_sendRawTransaction" },
    error: { code: -32000, message },
    url: "http://node",
  });

describe("classifyRpcError", function () {
  describe("node wordings", function () {
    // Each line is a message a client really returns (Geth, Besu, Nethermind, Erigon, Hardhat, Anvil, Arbitrum).
    const cases: [string, RpcErrorClass][] = [
      ["already known", "alreadyKnown"],
      [
        "Known transaction: 0x596cdc21a3f6f22804b10e2a696cccda199a7caa8a16a425b458195b27dde53d",
        "alreadyKnown",
      ],
      ["ALREADY_KNOWN", "alreadyKnown"],
      ["AlreadyKnown", "alreadyKnown"],
      ["Transaction with the same hash was already imported.", "alreadyKnown"],
      ["nonce too low", "nonceTooLow"],
      ["NONCE_TOO_LOW", "nonceTooLow"],
      [
        "Nonce too low. Expected nonce to be 1 but got 0. Note that transactions can't be queued when automining.",
        "nonceTooLow",
      ],
      ["OldNonce", "nonceTooLow"],
      ["nonce has already been used", "nonceTooLow"],
      ["replacement transaction underpriced", "replacementUnderpriced"],
      ["REPLACEMENT_UNDERPRICED", "replacementUnderpriced"],
      [
        "Replacement transaction underpriced. A gasPrice/maxFeePerGas of at least 2 is necessary to replace the existing transaction with nonce 3.",
        "replacementUnderpriced",
      ],
      [
        "Transaction gas price is too low. There is another transaction with same nonce in the queue.",
        "replacementUnderpriced",
      ],
      ["nonce too high", "nonceTooHigh"],
      [
        "Nonce too high. Expected nonce to be 1 but got 5. Note that transactions can't be queued when automining.",
        "nonceTooHigh",
      ],
      ["NONCE_TOO_FAR_IN_FUTURE_FOR_SENDER", "nonceTooHigh"],
      ["NonceGap", "nonceTooHigh"],
      ["insufficient funds for gas * price + value", "insufficientFunds"],
      [
        "Sender doesn't have enough funds to send tx. The max upfront cost is: 86100000000000",
        "insufficientFunds",
      ],
      ["TRANSACTION_UPFRONT_COST_EXCEEDS_BALANCE", "insufficientFunds"],
      ["transaction underpriced", "feeTooLow"],
      ["max fee per gas less than block base fee", "feeTooLow"],
      [
        "Transaction maxFeePerGas (1) is too low for the next block, which has a baseFeePerGas of 670055867",
        "feeTooLow",
      ],
      ["Gas price below configured minimum gas price", "feeTooLow"],
      ["Transaction gas limit is 100000000 and exceeds transaction gas cap of 16777216", "gasLimitTooHigh"],
      ["exceeds block gas limit", "gasLimitTooHigh"],
      ["intrinsic gas too high -- tx.gas_limit > env.block.gas_limit", "gasLimitTooHigh"],
      ["intrinsic gas too low", "intrinsicGasTooLow"],
      ["Transaction requires at least 21000 gas but got 20000", "intrinsicGasTooLow"],
      ["INTRINSIC_GAS_EXCEEDS_GAS_LIMIT", "intrinsicGasTooLow"],
      ["execution reverted", "reverted"],
      [
        "Gas estimation failed: an internal call runs out of gas regardless of the transaction's gas limit, so no reliable estimate exists. Set an explicit gas limit for the transaction, or set the network's gasEstimationMode to 'topLevelSuccess' to only require the top-level call to succeed.",
        "reverted",
      ],
      ["the method eth_frobnicate does not exist", "unknown"],
    ];
    for (const [message, expected] of cases) {
      it(`"${message.slice(0, 60)}" is ${expected}`, function () {
        expect(classifyRpcError(rpcError(message))).to.equal(expected);
      });
    }
  });

  it("classifies transport failures: a timeout and a dropped connection are ambiguous, 429 is throttling", function () {
    const timeout = new TimeoutError({ body: {}, url: "http://node" });
    const dropped = new HttpRequestError({ url: "http://node", cause: new Error("fetch failed") });
    const throttled = new HttpRequestError({ url: "http://node", status: 429 });
    expect(classifyRpcError(timeout)).to.equal("timeout");
    expect(classifyRpcError(dropped)).to.equal("network");
    expect(classifyRpcError(throttled)).to.equal("rateLimited");
    expect(classifyRpcError(new Error("Too Many Requests"))).to.equal("rateLimited");
    expect(isAmbiguous("timeout") && isAmbiguous("network") && isAmbiguous("unknown")).to.equal(true);
    expect(isAmbiguous("nonceTooLow")).to.equal(false);
  });

  it("counts exactly already known, nonce too low and replacement underpriced as already submitted", function () {
    const all: RpcErrorClass[] = [
      "alreadyKnown",
      "nonceTooLow",
      "replacementUnderpriced",
      "nonceTooHigh",
      "feeTooLow",
      "insufficientFunds",
      "gasLimitTooHigh",
      "intrinsicGasTooLow",
      "reverted",
      "timeout",
      "network",
      "rateLimited",
      "unknown",
    ];
    expect(all.filter(isAlreadySubmitted)).to.deep.equal([
      "alreadyKnown",
      "nonceTooLow",
      "replacementUnderpriced",
    ]);
  });

  describe("what real nodes answer", function () {
    let anvil: AnvilNode;
    let edr: Awaited<ReturnType<typeof network.create>>;

    before(async function () {
      anvil = await startAnvil();
      edr = await network.create();
    });

    after(async function () {
      await edr.close();
      await anvil.stop();
    });

    /** Sends a funded fresh key's transactions and returns how each refusal classifies. */
    async function refusals(
      client: PublicClient,
      fund: (to: Hex) => Promise<unknown>,
    ): Promise<Record<string, string>> {
      const account = privateKeyToAccount(generatePrivateKey());
      await fund(account.address);
      const chainId = await client.getChainId();
      const { maxFeePerGas, maxPriorityFeePerGas } = await client.estimateFeesPerGas();
      const sign = (nonce: number, gas = 21_000n, fee = maxFeePerGas * 2n) =>
        account.signTransaction({
          type: "eip1559",
          chainId,
          nonce,
          to: account.address,
          gas,
          maxFeePerGas: fee,
          maxPriorityFeePerGas: fee < maxPriorityFeePerGas ? fee : maxPriorityFeePerGas,
        });
      const send = async (raw: Hex) =>
        client.request({ method: "eth_sendRawTransaction", params: [raw] }).then(
          () => "accepted",
          (error: unknown) => classifyRpcError(error),
        );
      const first = await sign(0);
      return {
        first: await send(first),
        again: await send(first),
        lowNonce: await send(await sign(0, 21_000n, maxFeePerGas * 3n)),
        gasCap: await send(await sign(1, 100_000_000n)),
        intrinsic: await send(await sign(1, 20_000n)),
        baseFee: await send(await sign(1, 21_000n, 1n)),
      };
    }

    it("Hardhat's EDR", async function () {
      const client = createPublicClient({ transport: custom(edr.provider) });
      const funder = first(await edr.viem.getWalletClients());
      const answers = await refusals(client, (to) => funder.sendTransaction({ to, value: parseEther("1") }));
      expect(answers).to.deep.equal({
        first: "accepted",
        again: "nonceTooLow",
        lowNonce: "nonceTooLow",
        gasCap: "gasLimitTooHigh",
        intrinsic: "intrinsicGasTooLow",
        baseFee: "feeTooLow",
      });
    });

    it("Hardhat's EDR refusing to estimate a call in which an inner call runs out of gas: reverted", async function () {
      const client = createPublicClient({ transport: custom(edr.provider) });
      const funder = first(await edr.viem.getWalletClients());
      const deploy = async (runtime: string): Promise<Hex> => {
        const length = (runtime.length / 2).toString(16).padStart(2, "0");
        // CODECOPY(0, 9, length), RETURN(0, length): the 9 bytes before the runtime.
        const hash = await funder.deployContract({
          abi: [],
          bytecode: `0x60${length}8060095f395ff3${runtime}`,
        });
        return (await client.waitForTransactionReceipt({ hash })).contractAddress as Hex;
      };
      // A contract that loops forever, and one that calls it with 10,000 gas and succeeds whatever it answers.
      const spinner = await deploy("5b5f56"); // JUMPDEST PUSH0 JUMP
      // STATICCALL(10000, spinner, 0, 0, 0, 0), POP, STOP
      const caller = await deploy(`5f5f5f5f73${spinner.slice(2)}612710fa5000`);
      const refusal = await client.estimateGas({ to: caller }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refusal, "EDR refuses the estimate").not.to.equal(undefined);
      expect(classifyRpcError(refusal)).to.equal("reverted");
    });

    it("Anvil", async function () {
      const client = createPublicClient({ transport: http(anvil.url) });
      const anvilNetwork = await network.create({ network: "anvil", override: { url: anvil.url } });
      const funder = first(await anvilNetwork.viem.getWalletClients());
      const answers = await refusals(client, (to) => funder.sendTransaction({ to, value: parseEther("1") }));
      await anvilNetwork.close();
      expect(answers).to.deep.equal({
        first: "accepted",
        again: "nonceTooLow",
        lowNonce: "nonceTooLow",
        gasCap: "gasLimitTooHigh",
        intrinsic: "intrinsicGasTooLow",
        baseFee: "feeTooLow",
      });
    });
  });
});
