import { createRequire } from "node:module";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import { configVariable, defineConfig } from "hardhat/config";

import { qrsettleTasks } from "./tasks/index.ts";

const require = createRequire(import.meta.url);

/**
 * The compiler comes from the npm `solc` package, so builds never download anything. Its version must equal
 * the package's version (pinned exactly in package.json).
 */
const compiler = {
  version: "0.8.30",
  path: require.resolve("solc/soljson.js"),
  settings: {
    // The settlement hot path is hand-written assembly, so the optimizer's runs setting barely moves its gas
    // (18,640 vs 18,585 per payment at 1,000 runs) but does decide whether the ledger fits the 24,576-byte
    // code size limit (EIP-170) that Besu, Anvil and Hardhat enforce.
    optimizer: { enabled: true, runs: 200 },
    // Cancun is the newest fork whose opcodes (PUSH0, MCOPY, TSTORE) every client we target runs:
    // Hyperledger Besu consortium networks lag mainnet forks, Anvil and Hardhat's EDR run it too. Nothing
    // here needs a later fork's opcodes, so later forks stay optional for the chains that run us.
    evmVersion: "cancun",
  },
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers, hardhatViem],
  tasks: qrsettleTasks,
  solidity: {
    profiles: {
      default: compiler,
      // Deployments use the same settings as tests, so committed gas snapshots describe deployed code.
      production: compiler,
    },
  },
  paths: {
    // benchmarks/contracts holds the baselines and the floor probe the gas benchmark measures ours against; they
    // are never deployed.
    sources: { solidity: ["contracts", "benchmarks/contracts"] },
    tests: { solidity: "test", mocha: "test" },
  },
  test: {
    solidity: {
      // A fixed seed keeps fuzz inputs, and so the committed gas snapshots, reproducible.
      fuzz: { runs: 256, seed: "0x5152536574746c65" },
      invariant: { runs: 64, depth: 64, failOnRevert: false },
      fsPermissions: { readFile: ["test/vectors/eip712-payments.json"] },
    },
    mocha: { timeout: 120_000 },
  },
  typechain: { outDir: "types/ethers-contracts" },
  networks: {
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    // Anvil, a second independent EVM client; tests start one on a free port and pass its URL here.
    anvil: { type: "http", chainType: "l1", url: process.env.QRSETTLE_ANVIL_URL ?? "http://127.0.0.1:8546" },
    // Any EVM JSON-RPC endpoint, e.g. a bank consortium's Besu network. The key of the role you act as comes
    // from the keystore plugin (`npx hardhat keystore set QRSETTLE_KEY`) or the environment, never from a file.
    remote: {
      type: "http",
      chainType: "l1",
      url: configVariable("QRSETTLE_RPC_URL"),
      accounts: [configVariable("QRSETTLE_KEY")],
    },
  },
});
