"""Field-work pages, one module per feature: worklists (screen and A4 print), visits, the
officer's day, follow-ups, home support, reports to confirm and claims, outreach events and
trainings.

Scoped through gocua.accounts.selectors: what is outside the user's jurisdiction answers 404.
Field members see their own worklist and follow-ups and record their visits; unit managers see
and manage their subtree; viewers see outreach aggregates only. Writes call a service, are
audited and redirect.
"""
