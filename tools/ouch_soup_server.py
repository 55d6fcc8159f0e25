"""An OUCH 4.2 order-entry server built on Nasdaq's own `nasdaq-protocols` package, as an
independent counterparty for Tickline's SoupBinTCP/OUCH client (Tests/VenuesTests/OUCH).

SoupBinTCP (login, sequenced/unsequenced data, heartbeats, logout) is the package's
`soup.SoupServerSession`; OUCH messages are declared with the package's message framework
(`ouch.Message`, `Record`, typed fields), from the OUCH 4.2 specification's layouts.

Behaviour: accepts user `tick` / password `secret` (anything else: login rejected `A`); keeps
every sequenced message so a client that logs in again with sequence number n gets n, n+1, ...
replayed; answers Enter Order with Accepted then Executed for all shares at the order's price;
an order for exactly 13 shares is Accepted, then the connection is dropped and its Executed is
only stored (so it reaches the client by replay); Cancel Order of a live order with Canceled.

Prints `PORT <n>` on stdout once listening on 127.0.0.1 (port 0: any free port), then serves
until stdin closes.
"""
import asyncio
import os
import sys

from nasdaq_protocols import ouch, soup
from nasdaq_protocols.common import utils
from nasdaq_protocols.common.message import CharAscii, Field, FixedAsciiString, Record, UnsignedIntBE, UnsignedLongBE

IN_APP = 'TICKLINE_OUCH42_IN'
OUT_APP = 'TICKLINE_OUCH42_OUT'


class InMessage(ouch.Message, app_name=IN_APP):
    """Client → exchange messages (registered with the package's default direction so that
    `from_bytes` finds them)."""

    def __init_subclass__(cls, **kwargs):
        kwargs['app_name'] = IN_APP
        super().__init_subclass__(**kwargs)


class OutMessage(ouch.Message, app_name=OUT_APP):
    def __init_subclass__(cls, **kwargs):
        kwargs['app_name'] = OUT_APP
        super().__init_subclass__(**kwargs)


class EnterOrder(InMessage, indicator=ord('O'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [
            Field('token', FixedAsciiString(14)), Field('side', CharAscii), Field('shares', UnsignedIntBE),
            Field('stock', FixedAsciiString(8)), Field('price', UnsignedIntBE), Field('time_in_force', UnsignedIntBE),
            Field('firm', FixedAsciiString(4)), Field('display', CharAscii), Field('capacity', CharAscii),
            Field('iso', CharAscii), Field('min_qty', UnsignedIntBE), Field('cross_type', CharAscii),
            Field('customer_type', CharAscii),
        ]


class CancelOrder(InMessage, indicator=ord('X'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [Field('token', FixedAsciiString(14)), Field('shares', UnsignedIntBE)]


class SystemEvent(OutMessage, indicator=ord('S'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [Field('timestamp', UnsignedLongBE), Field('event_code', CharAscii)]


class Accepted(OutMessage, indicator=ord('A'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [
            Field('timestamp', UnsignedLongBE), Field('token', FixedAsciiString(14)), Field('side', CharAscii),
            Field('shares', UnsignedIntBE), Field('stock', FixedAsciiString(8)), Field('price', UnsignedIntBE),
            Field('time_in_force', UnsignedIntBE), Field('firm', FixedAsciiString(4)), Field('display', CharAscii),
            Field('order_reference', UnsignedLongBE), Field('capacity', CharAscii), Field('iso', CharAscii),
            Field('min_qty', UnsignedIntBE), Field('cross_type', CharAscii), Field('order_state', CharAscii),
            Field('bbo_weight', CharAscii),
        ]


class Executed(OutMessage, indicator=ord('E'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [
            Field('timestamp', UnsignedLongBE), Field('token', FixedAsciiString(14)), Field('shares', UnsignedIntBE),
            Field('price', UnsignedIntBE), Field('liquidity', CharAscii), Field('match_number', UnsignedLongBE),
        ]


class Canceled(OutMessage, indicator=ord('C'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [
            Field('timestamp', UnsignedLongBE), Field('token', FixedAsciiString(14)), Field('decrement', UnsignedIntBE),
            Field('reason', CharAscii),
        ]


def build(cls, **values):
    message = cls()
    for name, value in values.items():
        setattr(message, name, value)
    return message.to_bytes()[1]


class Venue:
    """State shared by every connection: the sequenced log and the live orders."""

    def __init__(self):
        self.log = []
        self.live = {}
        self.reference = 0
        self.match = 0
        self.clock = 34_200_000_000_000  # 09:30 in nanoseconds since midnight

    def tick(self):
        self.clock += 1_000
        return self.clock

    def store(self, payload):
        self.log.append(payload)
        return payload


VENUE = Venue()


class OUCHServerSession(soup.SoupServerSession):
    async def on_login(self, msg):
        if msg.user != 'tick' or msg.password != 'secret':
            return soup.LoginRejected(soup.LoginRejectReason.NOT_AUTHORIZED)
        requested = int(msg.sequence)
        first = len(VENUE.log) + 1 if requested == 0 else min(requested, len(VENUE.log) + 1)
        # Replay once the accepted packet has gone out (it is sent when this returns).
        asyncio.get_running_loop().call_soon(self.replay, first)
        return soup.LoginAccepted('OUCHPY', first)

    def replay(self, first):
        for payload in VENUE.log[first - 1:]:
            self.send_seq_msg(payload)

    async def on_unsequenced(self, msg):
        _, message = InMessage.from_bytes(msg.data)
        if isinstance(message, EnterOrder):
            VENUE.reference += 1
            accepted = VENUE.store(build(
                Accepted, timestamp=VENUE.tick(), token=message.token, side=message.side, shares=message.shares,
                stock=message.stock, price=message.price, time_in_force=message.time_in_force, firm=message.firm,
                display=message.display, order_reference=VENUE.reference, capacity=message.capacity, iso=message.iso,
                min_qty=message.min_qty, cross_type=message.cross_type, order_state='L', bbo_weight=' '))
            self.send_seq_msg(accepted)
            VENUE.match += 1
            executed = VENUE.store(build(
                Executed, timestamp=VENUE.tick(), token=message.token, shares=message.shares, price=message.price,
                liquidity='R', match_number=VENUE.match))
            if message.shares == 13:
                self.initiate_close()
                return
            self.send_seq_msg(executed)
        elif isinstance(message, CancelOrder):
            shares = VENUE.live.pop(message.token, None)
            if shares is not None:
                self.send_seq_msg(VENUE.store(build(
                    Canceled, timestamp=VENUE.tick(), token=message.token, decrement=shares, reason='U')))


async def main():
    server, task = await utils.start_server(('127.0.0.1', 0), OUCHServerSession)
    port = server.sockets[0].getsockname()[1]
    print(f'PORT {port}', flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()
    task.cancel()
    # Exit now: asyncio.run's clean-up waits for every task, and a session task that outlives
    # its connection kept the process (and the test waiting on it) alive.
    sys.stdout.flush()
    os._exit(0)


if __name__ == '__main__':
    asyncio.run(main())
