"""Django's PostgreSQL backend with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django asks `is_usable()` before the first query of every request,
and the stock backend answers with `SELECT 1`: one of the dozen round trips of a phone's
visit post (bench/sync.py: about a tenth of the posts per second). A connection the server
has dropped (a restart, a failover, an idle timeout) has been sent a goodbye and had its
socket closed by the server, which the client can see locally: the socket is readable. So:
look at the socket without waiting; an idle connection with nothing to read, that libpq calls
good and that is not stuck in a failed transaction, is trusted; one with something to read is
checked with `SELECT 1` as before.

A peer that vanished without closing the socket (a cut cable) is not detected by this, but
neither was it by `SELECT 1` without a timeout: the first query fails, and Django closes the
connection at the end of that request.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        pgconn = connection.pgconn
        try:
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
        except (OSError, ValueError):
            return False
        if readable:
            # Something arrived while the connection sat idle: usually the server's goodbye
            # ("terminating connection ..."), with the end of the stream close behind. Rare
            # enough to ask the server the old way.
            return super().is_usable()
        return pgconn.status == pq.ConnStatus.OK and pgconn.transaction_status in (
            pq.TransactionStatus.IDLE,
            pq.TransactionStatus.INTRANS,
        )
