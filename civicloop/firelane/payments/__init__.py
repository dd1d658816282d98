"""Online payment of fire-lane notices (告知单).

- provider.py: the provider protocol and Alipay's RSA2 implementation (wap.pay redirect,
  async notify verification, trade.query); amounts in fen <-> Alipay's yuan strings.
- fake.py: a loopback Alipay gateway and cashier for tests and the demo.
- services.py: payment_start, payment_notify_apply, payment_reconcile.
- views.py / urls.py: the notify endpoint and the browser's return.
"""
