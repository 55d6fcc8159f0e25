/// Order management: order state machines, client order ids, positions and P&L.
