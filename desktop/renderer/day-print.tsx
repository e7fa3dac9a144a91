/**
 * The printed Z-report (issue 19): the studio, the business day, the revision and when the report
 * was generated, then the same tables as the screen (print.tsx's sheet and print stylesheet: on
 * paper, only the report). The branch's report only: this till's copy offline is never printed as one.
 */
import type { DayReport } from "../app/api.js";
import { formatCount } from "../../domain/amounts.js";
import { CurrencyTable, DrawerTable, ProofList, RevisionList, TillTable, tillUsers } from "./day-tables.js";
import { useStatus } from "./hooks.js";
import { branchTime, PrintSheet, StudioHeader } from "./print.js";

export function ZReportPrint({ report, onClose }: { report: DayReport; onClose: () => void }) {
  // On paper every till is named alike ("Till 0000a1 (nimal)"): "this till" means nothing in a file.
  const ownDeviceId = null;
  const status = useStatus();
  const latest = report.revisions.at(-1);
  const close = report.revisions[0];
  // The branch's name as the report states it; address and phone from the studio details this till has.
  const studio = status?.studio ? { ...status.studio, name: report.studio } : { name: report.studio, address: "", phone: null, tax_id: null };
  return (
    <PrintSheet label={`Z-report ${report.day}`} onClose={onClose}>
      <StudioHeader studio={studio} taxId={true} />
      <h3 data-testid="zreport-title">
        Z-report · business day {report.day}
      </h3>
      <p class="print-meta" data-testid="zreport-revision">
        {latest
          ? `Revision ${formatCount(latest.revision)}${latest.revision > 1 ? " (amended by late sales)" : ""} · closed ${branchTime(close!.at, report.time_zone)} by ${close!.by_user}`
          : "OPEN: not closed, the figures are the day so far"}
      </p>
      <p class="print-meta">
        Generated {branchTime(report.generated_at, report.time_zone)} ({report.time_zone})
      </p>
      <CurrencyTable figures={report.figures} caption="Totals per currency" />
      <TillTable figures={report.figures} ownDeviceId={ownDeviceId} users={tillUsers(report)} caption="Per till and payment method" />
      <h4>Proof per till</h4>
      <ProofList tills={report.tills} ownDeviceId={ownDeviceId} />
      <h4>Drawer counts</h4>
      <DrawerTable report={report} ownDeviceId={ownDeviceId} users={tillUsers(report)} />
      <h4>Revisions</h4>
      <RevisionList report={report} ownDeviceId={ownDeviceId} />
    </PrintSheet>
  );
}
