"""The ledger exported to Beancount passes bean-check, and says what the ledger says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.flows import quote_body, to_fulfilment


def test_the_exported_ledger_passes_bean_check(live, as_user, tmp_path):
    rep, manager, finance = as_user("rep1"), as_user("manager"), as_user("finance")
    deal_id = to_fulfilment(live, rep, manager, quote_body(billing_plan={"kind": "upfront"}))[
        "deal_id"
    ]
    number = finance.every(f"/invoices?deal_id={deal_id}")[0]["number"]
    finance.post(f"/invoices/{number}/credit-notes", json={"amount": "10.00", "reason": "x"})
    out = tmp_path / "l2c.beancount"
    bin_dir = Path(sys.executable).parent
    env = {"DATABASE_URL": live.settings.database_url or "", "PATH": str(bin_dir)}
    subprocess.run(
        [str(bin_dir / "l2c"), "ledger", "export", "--beancount", str(out)],
        env=env,
        check=True,
        capture_output=True,
    )
    text = out.read_text()
    assert f'l2c-key: "invoice:{number}"' in text
    assert "Income:SalesAllowances" in text
    checked = subprocess.run(
        [str(bin_dir / "bean-check"), str(out)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
