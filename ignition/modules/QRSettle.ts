import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * Deploys the bank registry, the settlement ledger bound to it, and the FX module bound to both. Parameters:
 * - `governor`: holder of the registry's default admin role, which grants every other role;
 * - `adminTransferDelay`: seconds a default-admin handover must wait (default one day).
 *
 * Configuration (roles, the FX module's role, currencies, banks, caps, funding) is applied afterwards by
 * `npx hardhat qrsettle configure`, which reads the chain and changes only what differs.
 */
export default buildModule("QRSettle", (m) => {
  const governor = m.getParameter<string>("governor");
  const adminTransferDelay = m.getParameter<number>("adminTransferDelay", 86_400);
  const registry = m.contract("BankRegistry", [governor, adminTransferDelay]);
  const ledger = m.contract("SettlementLedger", [registry]);
  const fx = m.contract("FxSettlement", [registry, ledger]);
  return { registry, ledger, fx };
});
