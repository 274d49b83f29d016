"""The simulated market of one symbol: price path, order book, candles and public trades."""
