import TicklineCore
// The catalogue of indicators a feature registry can name. Every kind appears in the enum, its
// parameter and output lists, the storage and the two switches below: add a kind to all five.
import TicklineConfig

/// The indicators a feature registry may name, with their parameters and outputs.
public enum IndicatorKind: UInt8, CaseIterable, Sendable {
    case sma = 0
    case ema = 1
    case wma = 2
    case dema = 3
    case tema = 4
    case kama = 5
    case rsi = 6
    case macd = 7
    case roc = 8
    case mom = 9
    case stddev = 10
    case bbands = 11
    case linearreg = 12
    case zscore = 13
    case returns = 14
    case atr = 15
    case natr = 16
    case trange = 17
    case adx = 18
    case plus_di = 19
    case minus_di = 20
    case stoch = 21
    case cci = 22
    case willr = 23
    case mfi = 24
    case obv = 25
    case ad = 26
    case vwap = 27
    case sar = 28
    case donchian = 29
    case keltner = 30
    // Microstructure, tick timeframe: fed book updates (`input: book`) or trades (`input: trade`).
    case spread = 31
    case mid = 32
    case microprice = 33
    case book_imbalance = 34
    case ofi = 35
    case trade_rate = 36
    case signed_volume = 37
    case volume_clock = 38

    /// True for indicators fed whole bars (high/low/close/volume), false for one series.
    public var takesBar: Bool {
        switch self {
        case .atr, .natr, .trange, .adx, .plus_di, .minus_di, .stoch, .cci, .willr, .mfi, .obv, .ad, .vwap, .sar, .donchian, .keltner: true
        default: false
        }
    }

    /// What a microstructure indicator is fed: `.book`, `.trade`, or nil for series/bar ones.
    public var tickInput: FeatureInput? {
        switch self {
        case .spread, .mid, .microprice, .book_imbalance, .ofi: .book
        case .trade_rate, .signed_volume, .volume_clock: .trade
        default: nil
        }
    }

    /// Parameter names the YAML may give, and output names for multi-output indicators.
    public var parameterNames: [String] {
        switch self {
        case .sma: ["period"]
        case .ema: ["period"]
        case .wma: ["period"]
        case .dema: ["period"]
        case .tema: ["period"]
        case .kama: ["period"]
        case .rsi: ["period"]
        case .macd: ["fast", "slow", "signal"]
        case .roc: ["period"]
        case .mom: ["period"]
        case .stddev: ["period", "deviations"]
        case .bbands: ["period", "deviations_up", "deviations_down"]
        case .linearreg: ["period"]
        case .zscore: ["period"]
        case .returns: ["lag"]
        case .atr: ["period"]
        case .natr: ["period"]
        case .trange: []
        case .adx: ["period"]
        case .plus_di: ["period"]
        case .minus_di: ["period"]
        case .stoch: ["fast_k", "slow_k", "slow_d"]
        case .cci: ["period"]
        case .willr: ["period"]
        case .mfi: ["period"]
        case .obv: []
        case .ad: []
        case .vwap: []
        case .sar: ["acceleration", "maximum"]
        case .donchian: ["period"]
        case .keltner: ["period", "atr_period", "multiplier"]
        case .spread: []
        case .mid: []
        case .microprice: []
        case .book_imbalance: ["depth", "decay"]
        case .ofi: ["window"]
        case .trade_rate: ["half_life_ms"]
        case .signed_volume: ["window"]
        case .volume_clock: ["bucket_volume"]
        }
    }

    public var outputNames: [String] {
        switch self {
        case .sma: []
        case .ema: []
        case .wma: []
        case .dema: []
        case .tema: []
        case .kama: []
        case .rsi: []
        case .macd: ["macd", "signal", "histogram"]
        case .roc: []
        case .mom: []
        case .stddev: []
        case .bbands: ["upper", "middle", "lower"]
        case .linearreg: []
        case .zscore: []
        case .returns: ["simple", "log"]
        case .atr: []
        case .natr: []
        case .trange: []
        case .adx: []
        case .plus_di: []
        case .minus_di: []
        case .stoch: ["k", "d"]
        case .cci: []
        case .willr: []
        case .mfi: []
        case .obv: []
        case .ad: []
        case .vwap: []
        case .sar: []
        case .donchian: ["upper", "middle", "lower"]
        case .keltner: ["upper", "middle", "lower"]
        case .spread: ["absolute", "relative"]
        case .mid: []
        case .microprice: []
        case .book_imbalance: []
        case .ofi: []
        case .trade_rate: []
        case .signed_volume: []
        case .volume_clock: ["buckets", "fill"]
        }
    }
}

/// Per-instrument indicator state, one typed array per kind (no existentials, no boxing):
/// element `instrument * count + k` is the k-th feature of that kind for an instrument.
final class IndicatorStorage {
    var sma: [SMA] = []
    var ema: [EMA] = []
    var wma: [WMA] = []
    var dema: [DEMA] = []
    var tema: [TEMA] = []
    var kama: [KAMA] = []
    var rsi: [RSI] = []
    var macd: [MACD] = []
    var roc: [ROC] = []
    var mom: [Momentum] = []
    var stddev: [StandardDeviation] = []
    var bbands: [BollingerBands] = []
    var linearreg: [LinearRegression] = []
    var zscore: [RollingZScore] = []
    var returns: [Returns] = []
    var atr: [ATR] = []
    var natr: [NATR] = []
    var trange: [TrueRange] = []
    var adx: [ADX] = []
    var plus_di: [PlusDI] = []
    var minus_di: [MinusDI] = []
    var stoch: [Stochastic] = []
    var cci: [CCI] = []
    var willr: [WilliamsR] = []
    var mfi: [MFI] = []
    var obv: [OBV] = []
    var ad: [ChaikinAD] = []
    var vwap: [SessionVWAP] = []
    var sar: [ParabolicSAR] = []
    var donchian: [DonchianChannels] = []
    var keltner: [KeltnerChannels] = []
    var bookImbalance: [BookImbalance] = []
    var ofi: [OrderFlowImbalance] = []
    var tradeRate: [TradeArrivalRate] = []
    var signedVolume: [SignedVolume] = []
    var volumeClock: [VolumeClock] = []
    /// Stateless microstructure kinds (spread, mid, micro-price) keep no state; they still get
    /// an index so every kind has the same addressing.
    var stateless = 0

    /// Appends one instance for a node; `params` were validated by the registry.
    func append(_ kind: IndicatorKind, _ params: ParameterValues) throws(ConfigError) {
        switch kind {
        case .sma: sma.append(SMA(period: try params.int("period", default: nil)))
        case .ema: ema.append(EMA(period: try params.int("period", default: nil)))
        case .wma: wma.append(WMA(period: try params.int("period", default: nil)))
        case .dema: dema.append(DEMA(period: try params.int("period", default: nil)))
        case .tema: tema.append(TEMA(period: try params.int("period", default: nil)))
        case .kama: kama.append(KAMA(period: try params.int("period", default: nil)))
        case .rsi: rsi.append(RSI(period: try params.int("period", default: 14)))
        case .macd: macd.append(MACD(fast: try params.int("fast", default: 12), slow: try params.int("slow", default: 26), signal: try params.int("signal", default: 9)))
        case .roc: roc.append(ROC(period: try params.int("period", default: nil)))
        case .mom: mom.append(Momentum(period: try params.int("period", default: nil)))
        case .stddev: stddev.append(StandardDeviation(period: try params.int("period", default: 5), deviations: try params.double("deviations", default: 1)))
        case .bbands: bbands.append(BollingerBands(period: try params.int("period", default: 20), deviationsUp: try params.double("deviations_up", default: 2), deviationsDown: try params.double("deviations_down", default: 2)))
        case .linearreg: linearreg.append(LinearRegression(period: try params.int("period", default: 14)))
        case .zscore: zscore.append(RollingZScore(period: try params.int("period", default: nil)))
        case .returns: returns.append(Returns(lag: try params.int("lag", default: 1)))
        case .atr: atr.append(ATR(period: try params.int("period", default: 14)))
        case .natr: natr.append(NATR(period: try params.int("period", default: 14)))
        case .trange: trange.append(TrueRange())
        case .adx: adx.append(ADX(period: try params.int("period", default: 14)))
        case .plus_di: plus_di.append(PlusDI(period: try params.int("period", default: 14)))
        case .minus_di: minus_di.append(MinusDI(period: try params.int("period", default: 14)))
        case .stoch: stoch.append(Stochastic(fastK: try params.int("fast_k", default: 5), slowK: try params.int("slow_k", default: 3), slowD: try params.int("slow_d", default: 3)))
        case .cci: cci.append(CCI(period: try params.int("period", default: 14)))
        case .willr: willr.append(WilliamsR(period: try params.int("period", default: 14)))
        case .mfi: mfi.append(MFI(period: try params.int("period", default: 14)))
        case .obv: obv.append(OBV())
        case .ad: ad.append(ChaikinAD())
        case .vwap: vwap.append(SessionVWAP())
        case .sar: sar.append(ParabolicSAR(acceleration: try params.double("acceleration", default: 0.02), maximum: try params.double("maximum", default: 0.2)))
        case .donchian: donchian.append(DonchianChannels(period: try params.int("period", default: 20)))
        case .keltner: keltner.append(KeltnerChannels(period: try params.int("period", default: 20), atrPeriod: try params.int("atr_period", default: 10), multiplier: try params.double("multiplier", default: 2)))
        case .spread, .mid, .microprice: stateless += 1
        case .book_imbalance:
            let decay = try params.double("decay", default: 1)
            guard decay > 0 else { throw (params.nodes["decay"] ?? params.owner).error("decay must be positive") }
            bookImbalance.append(BookImbalance(depth: try params.int("depth", default: 5), decay: decay))
        case .ofi: ofi.append(OrderFlowImbalance(window: try params.int("window", default: 100)))
        case .trade_rate: tradeRate.append(TradeArrivalRate(halfLife: .milliseconds(Int64(try params.int("half_life_ms", default: 1_000)))))
        case .signed_volume: signedVolume.append(SignedVolume(window: try params.int("window", default: 100)))
        case .volume_clock:
            let bucket = try params.double("bucket_volume", default: nil)
            guard bucket > 0 else { throw (params.nodes["bucket_volume"] ?? params.owner).error("bucket_volume must be positive") }
            volumeClock.append(VolumeClock(bucketSize: bucket))
        }
    }

    /// Updates the node's indicator and returns the selected output (NaN until ready).
    @inline(__always)
    func update(_ kind: IndicatorKind, _ index: Int, value: Double, bar: PriceBar, output: Int) -> Double {
        switch kind {
        case .sma: return sma[index].update(value) ?? .nan
        case .ema: return ema[index].update(value) ?? .nan
        case .wma: return wma[index].update(value) ?? .nan
        case .dema: return dema[index].update(value) ?? .nan
        case .tema: return tema[index].update(value) ?? .nan
        case .kama: return kama[index].update(value) ?? .nan
        case .rsi: return rsi[index].update(value) ?? .nan
        case .macd:
            guard let o = macd[index].update(value) else { return .nan }
            switch output { case 0: return o.macd; case 1: return o.signal; default: return o.histogram }
        case .roc: return roc[index].update(value) ?? .nan
        case .mom: return mom[index].update(value) ?? .nan
        case .stddev: return stddev[index].update(value) ?? .nan
        case .bbands:
            guard let o = bbands[index].update(value) else { return .nan }
            switch output { case 0: return o.upper; case 1: return o.middle; default: return o.lower }
        case .linearreg: return linearreg[index].update(value) ?? .nan
        case .zscore: return zscore[index].update(value) ?? .nan
        case .returns:
            guard let o = returns[index].update(value) else { return .nan }
            switch output { case 0: return o.simple; default: return o.log }
        case .atr: return atr[index].update(bar) ?? .nan
        case .natr: return natr[index].update(bar) ?? .nan
        case .trange: return trange[index].update(bar) ?? .nan
        case .adx: return adx[index].update(bar) ?? .nan
        case .plus_di: return plus_di[index].update(bar) ?? .nan
        case .minus_di: return minus_di[index].update(bar) ?? .nan
        case .stoch:
            guard let o = stoch[index].update(bar) else { return .nan }
            switch output { case 0: return o.k; default: return o.d }
        case .cci: return cci[index].update(bar) ?? .nan
        case .willr: return willr[index].update(bar) ?? .nan
        case .mfi: return mfi[index].update(bar) ?? .nan
        case .obv: return obv[index].update(bar) ?? .nan
        case .ad: return ad[index].update(bar) ?? .nan
        case .vwap: return vwap[index].update(bar) ?? .nan
        case .sar: return sar[index].update(bar) ?? .nan
        case .donchian:
            guard let o = donchian[index].update(bar) else { return .nan }
            switch output { case 0: return o.upper; case 1: return o.middle; default: return o.lower }
        case .keltner:
            guard let o = keltner[index].update(bar) else { return .nan }
            switch output { case 0: return o.upper; case 1: return o.middle; default: return o.lower }
        case .spread, .mid, .microprice, .book_imbalance, .ofi, .trade_rate, .signed_volume, .volume_clock:
            return .nan  // fed by updateBook / updateTrade only (the plan never routes them here)
        }
    }

    /// Updates a book-fed microstructure node.
    @inline(__always)
    func updateBook(_ kind: IndicatorKind, _ index: Int, book: BookView, output: Int) -> Double {
        let quote = book.quote
        switch kind {
        case .spread:
            guard quote.bidSize > 0 || quote.askSize > 0, quote.askPrice >= quote.bidPrice else { return .nan }
            return output == 0 ? quote.spread : quote.relativeSpread
        case .mid: return quote.mid
        case .microprice: return quote.microPrice
        case .book_imbalance: return bookImbalance[index](bidSizes: book.bidSizes, askSizes: book.askSizes)
        case .ofi: return ofi[index].update(quote) ?? .nan
        default: return .nan
        }
    }

    /// Updates a trade-fed microstructure node.
    @inline(__always)
    func updateTrade(_ kind: IndicatorKind, _ index: Int, trade: TradePrint, at time: Nanos, output: Int) -> Double {
        switch kind {
        case .trade_rate: return tradeRate[index].record(at: time)
        case .signed_volume: return signedVolume[index].update(trade) ?? .nan
        case .volume_clock:
            volumeClock[index].add(volume: trade.size)
            return output == 0 ? Double(volumeClock[index].bucketsCompleted) : volumeClock[index].bucketVolume / volumeClock[index].bucketSize
        default: return .nan
        }
    }

    func reset() {
        for i in sma.indices { sma[i].reset() }
        for i in ema.indices { ema[i].reset() }
        for i in wma.indices { wma[i].reset() }
        for i in dema.indices { dema[i].reset() }
        for i in tema.indices { tema[i].reset() }
        for i in kama.indices { kama[i].reset() }
        for i in rsi.indices { rsi[i].reset() }
        for i in macd.indices { macd[i].reset() }
        for i in roc.indices { roc[i].reset() }
        for i in mom.indices { mom[i].reset() }
        for i in stddev.indices { stddev[i].reset() }
        for i in bbands.indices { bbands[i].reset() }
        for i in linearreg.indices { linearreg[i].reset() }
        for i in zscore.indices { zscore[i].reset() }
        for i in returns.indices { returns[i].reset() }
        for i in atr.indices { atr[i].reset() }
        for i in natr.indices { natr[i].reset() }
        for i in trange.indices { trange[i].reset() }
        for i in adx.indices { adx[i].reset() }
        for i in plus_di.indices { plus_di[i].reset() }
        for i in minus_di.indices { minus_di[i].reset() }
        for i in stoch.indices { stoch[i].reset() }
        for i in cci.indices { cci[i].reset() }
        for i in willr.indices { willr[i].reset() }
        for i in mfi.indices { mfi[i].reset() }
        for i in obv.indices { obv[i].reset() }
        for i in ad.indices { ad[i].reset() }
        for i in vwap.indices { vwap[i].reset() }
        for i in sar.indices { sar[i].reset() }
        for i in donchian.indices { donchian[i].reset() }
        for i in keltner.indices { keltner[i].reset() }
        for i in ofi.indices { ofi[i].reset() }
        for i in tradeRate.indices { tradeRate[i].reset() }
        for i in signedVolume.indices { signedVolume[i].reset() }
        for i in volumeClock.indices { volumeClock[i].reset() }
    }
}
