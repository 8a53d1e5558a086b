//! Sample evaluation points for the corpus in `models.rs`.
//!
//! Each entry names a corpus function and gives a point where the model and all of its partial
//! derivatives are finite and smooth (away from `if`/`abs`/`min`/`max` branch points and from
//! singularities), so generated value and Jacobian kernels can be compared there with the
//! plain-Rust function and with finite differences.
//!
//! Every NIST StRD model has two entries, both copied from its `.dat` file
//! (`shared/data/nist-strd/`): the "Start 1" parameter values with the x of the first data row,
//! and the certified parameter values with the x of the middle data row (data line given in the
//! comment). Numbers keep NIST's digits; only the spelling was made into valid Rust float
//! literals (`1000` -> `1000.0`, `.591E0` -> `0.591E0`). Nelson's x is `[x1, x2]`.
//! Piecewise and non-smooth general models get one entry per branch.

/// (function name, x values (K of them; one for a scalar input), parameter values flattened in
/// declaration order, array parameters expanded in place)
pub const SAMPLES: &[(&str, &[f64], &[f64])] = &[
    // NIST StRD: (Start 1, first data row), then (certified values, middle data row).
    // Misra1a
    ("misra1a", &[77.6E0], &[500.0, 0.0001]),
    // certified values; x from data line 68
    ("misra1a", &[378.4E0], &[2.3894212918E+02, 5.5015643181E-04]),
    // Chwirut2
    ("chwirut2", &[0.500E0], &[0.1, 0.01, 0.02]),
    // certified values; x from data line 88
    (
        "chwirut2",
        &[0.500E0],
        &[1.6657666537E-01, 5.1653291286E-03, 1.2150007096E-02],
    ),
    // Chwirut1
    ("chwirut1", &[0.5000E0], &[0.1, 0.01, 0.02]),
    // certified values; x from data line 168
    (
        "chwirut1",
        &[6.0000E0],
        &[1.9027818370E-01, 6.1314004477E-03, 1.0530908399E-02],
    ),
    // Lanczos3
    ("lanczos3", &[0.00000E+00], &[1.2, 0.3, 5.6, 5.5, 6.5, 7.6]),
    // certified values; x from data line 73
    (
        "lanczos3",
        &[6.00000E-01],
        &[
            8.6816414977E-02,
            9.5498101505E-01,
            8.4400777463E-01,
            2.9515951832E+00,
            1.5825685901E+00,
            4.9863565084E+00,
        ],
    ),
    // Gauss1
    (
        "gauss1",
        &[1.000000],
        &[97.0, 0.009, 100.0, 65.0, 20.0, 70.0, 178.0, 16.5],
    ),
    // certified values; x from data line 186
    (
        "gauss1",
        &[126.0000],
        &[
            9.8778210871E+01,
            1.0497276517E-02,
            1.0048990633E+02,
            6.7481111276E+01,
            2.3129773360E+01,
            7.1994503004E+01,
            1.7899805021E+02,
            1.8389389025E+01,
        ],
    ),
    // Gauss2
    (
        "gauss2",
        &[1.000000],
        &[96.0, 0.009, 103.0, 106.0, 18.0, 72.0, 151.0, 18.0],
    ),
    // certified values; x from data line 186
    (
        "gauss2",
        &[126.0000],
        &[
            9.9018328406E+01,
            1.0994945399E-02,
            1.0188022528E+02,
            1.0703095519E+02,
            2.3578584029E+01,
            7.2045589471E+01,
            1.5327010194E+02,
            1.9525972636E+01,
        ],
    ),
    // DanWood
    ("dan_wood", &[1.309E0], &[1.0, 5.0]),
    // certified values; x from data line 64
    (
        "dan_wood",
        &[1.565E0],
        &[7.6886226176E-01, 3.8604055871E+00],
    ),
    // Misra1b
    ("misra1b", &[77.6E0], &[500.0, 0.0001]),
    // certified values; x from data line 68
    ("misra1b", &[378.4E0], &[3.3799746163E+02, 3.9039091287E-04]),
    // Kirby2
    ("kirby2", &[9.65E0], &[2.0, -0.1, 0.003, -0.001, 0.00001]),
    // certified values; x from data line 136
    (
        "kirby2",
        &[199.97E0],
        &[
            1.6745063063E+00,
            -1.3927397867E-01,
            2.5961181191E-03,
            -1.7241811870E-03,
            2.1664802578E-05,
        ],
    ),
    // Hahn1
    (
        "hahn1",
        &[24.41E0],
        &[10.0, -1.0, 0.05, -0.00001, -0.05, 0.001, -0.000001],
    ),
    // certified values; x from data line 179
    (
        "hahn1",
        &[117.37E0],
        &[
            1.0776351733E+00,
            -1.2269296921E-01,
            4.0863750610E-03,
            -1.4262662514E-06,
            -5.7609940901E-03,
            2.4053735503E-04,
            -1.2314450199E-07,
        ],
    ),
    // Nelson
    ("nelson", &[1E0, 180E0], &[2.0, 0.0001, -0.01]),
    // certified values; x from data line 125
    (
        "nelson",
        &[16E0, 180E0],
        &[2.5906836021E+00, 5.6177717026E-09, -5.7701013174E-02],
    ),
    // MGH17
    ("mgh17", &[0.000000E+00], &[50.0, 150.0, -100.0, 1.0, 2.0]),
    // certified values; x from data line 77
    (
        "mgh17",
        &[1.600000E+02],
        &[
            3.7541005211E-01,
            1.9358469127E+00,
            -1.4646871366E+00,
            1.2867534640E-02,
            2.2122699662E-02,
        ],
    ),
    // Lanczos1
    (
        "lanczos1",
        &[0.000000000000E+00],
        &[1.2, 0.3, 5.6, 5.5, 6.5, 7.6],
    ),
    // certified values; x from data line 73
    (
        "lanczos1",
        &[6.000000000000E-01],
        &[
            9.5100000027E-02,
            1.0000000001E+00,
            8.6070000013E-01,
            3.0000000002E+00,
            1.5575999998E+00,
            5.0000000001E+00,
        ],
    ),
    // Lanczos2
    ("lanczos2", &[0.00000E+00], &[1.2, 0.3, 5.6, 5.5, 6.5, 7.6]),
    // certified values; x from data line 73
    (
        "lanczos2",
        &[6.00000E-01],
        &[
            9.6251029939E-02,
            1.0057332849E+00,
            8.6424689056E-01,
            3.0078283915E+00,
            1.5529016879E+00,
            5.0028798100E+00,
        ],
    ),
    // Gauss3
    (
        "gauss3",
        &[1.000000],
        &[94.9, 0.009, 90.1, 113.0, 20.0, 73.8, 140.0, 20.0],
    ),
    // certified values; x from data line 186
    (
        "gauss3",
        &[126.0000],
        &[
            9.8940368970E+01,
            1.0945879335E-02,
            1.0069553078E+02,
            1.1163619459E+02,
            2.3300500029E+01,
            7.3705031418E+01,
            1.4776164251E+02,
            1.9668221230E+01,
        ],
    ),
    // Misra1c
    ("misra1c", &[77.6E0], &[500.0, 0.0001]),
    // certified values; x from data line 68
    ("misra1c", &[378.4E0], &[6.3642725809E+02, 2.0813627256E-04]),
    // Misra1d
    ("misra1d", &[77.6E0], &[500.0, 0.0001]),
    // certified values; x from data line 68
    ("misra1d", &[378.4E0], &[4.3736970754E+02, 3.0227324449E-04]),
    // Roszman1
    ("roszman1", &[-4868.68], &[0.1, -0.00001, 1000.0, -100.0]),
    // certified values; x from data line 73
    (
        "roszman1",
        &[-1495.85],
        &[
            2.0196866396E-01,
            -6.1953516256E-06,
            1.2044556708E+03,
            -1.8134269537E+02,
        ],
    ),
    // ENSO
    (
        "enso",
        &[1.000000],
        &[11.0, 3.0, 0.5, 40.0, -0.7, -1.3, 25.0, -0.3, 1.4],
    ),
    // certified values; x from data line 145
    (
        "enso",
        &[85.00000],
        &[
            1.0510749193E+01,
            3.0762128085E+00,
            5.3280138227E-01,
            4.4311088700E+01,
            -1.6231428586E+00,
            5.2554493756E-01,
            2.6887614440E+01,
            2.1232288488E-01,
            1.4966870418E+00,
        ],
    ),
    // MGH09
    ("mgh09", &[4.000000E+00], &[25.0, 39.0, 41.5, 39.0]),
    // certified values; x from data line 66
    (
        "mgh09",
        &[1.670000E-01],
        &[
            1.9280693458E-01,
            1.9128232873E-01,
            1.2305650693E-01,
            1.3606233068E-01,
        ],
    ),
    // Thurber
    (
        "thurber",
        &[-3.067E0],
        &[1000.0, 1000.0, 400.0, 40.0, 0.7, 0.3, 0.03],
    ),
    // certified values; x from data line 79
    (
        "thurber",
        &[-0.915E0],
        &[
            1.2881396800E+03,
            1.4910792535E+03,
            5.8323836877E+02,
            7.5416644291E+01,
            9.6629502864E-01,
            3.9797285797E-01,
            4.9727297349E-02,
        ],
    ),
    // BoxBOD
    ("box_bod", &[1.0], &[1.0, 1.0]),
    // certified values; x from data line 64
    ("box_bod", &[5.0], &[2.1380940889E+02, 5.4723748542E-01]),
    // Rat42
    ("rat42", &[9.000E0], &[100.0, 1.0, 0.1]),
    // certified values; x from data line 65
    (
        "rat42",
        &[42.000E0],
        &[7.2462237576E+01, 2.6180768402E+00, 6.7359200066E-02],
    ),
    // MGH10
    ("mgh10", &[5.000000E+01], &[2.0, 400000.0, 25000.0]),
    // certified values; x from data line 69
    (
        "mgh10",
        &[9.000000E+01],
        &[5.6096364710E-03, 6.1813463463E+03, 3.4522363462E+02],
    ),
    // Eckerle4
    ("eckerle4", &[400.000000E0], &[1.0, 10.0, 500.0]),
    // certified values; x from data line 78
    (
        "eckerle4",
        &[450.000000E0],
        &[1.5543827178E+00, 4.0888321754E+00, 4.5154121844E+02],
    ),
    // Rat43
    ("rat43", &[1.0E0], &[100.0, 10.0, 1.0, 1.0]),
    // certified values; x from data line 68
    (
        "rat43",
        &[8.0E0],
        &[
            6.9964151270E+02,
            5.2771253025E+00,
            7.5962938329E-01,
            1.2792483859E+00,
        ],
    ),
    // Bennett5
    ("bennett5", &[7.447168E0], &[-2000.0, 50.0, 0.8]),
    // certified values; x from data line 138
    (
        "bennett5",
        &[11.594420E0],
        &[-2.5235058043E+03, 4.6736564644E+01, 9.3218483193E-01],
    ),
    // General models.
    ("gaussian", &[1.3], &[2.5, 1.0, 0.8]),
    ("lorentzian", &[0.7], &[3.0, 0.2, 0.5]),
    ("sigmoid", &[1.5], &[4.0, 2.0, 1.0, 0.5]),
    ("power_law", &[2.5], &[1.7, -1.3]),
    ("exp_decay", &[0.8], &[5.0, 1.2, 0.3]),
    ("damped_oscillation", &[2.0], &[1.5, 3.0, 4.0, 0.3, 0.1]),
    // amp[0..3], mu[0..3], sigma[0..3], c
    (
        "multi_gaussian",
        &[2.2],
        &[1.0, 2.0, 0.5, 1.0, 2.5, 4.0, 0.5, 0.7, 1.2, 0.1],
    ),
    ("gaussian_2d", &[3.2, 4.7], &[100.0, 3.0, 5.0, 1.5, 10.0]),
    // below and above the break x_b = 1.2
    ("broken_power_law", &[0.5], &[2.0, 1.2, 0.7, 2.3]),
    ("broken_power_law", &[3.0], &[2.0, 1.2, 0.7, 2.3]),
    // on the slope and on the plateau (x0 = 3)
    ("linear_plateau", &[1.0], &[0.5, 2.0, 3.0]),
    ("linear_plateau", &[5.0], &[0.5, 2.0, 3.0]),
    ("pseudo_voigt", &[0.4], &[10.0, 0.1, 0.8, 0.3]),
    ("michaelis_menten", &[2.0], &[1.5, 0.7]),
    ("hill", &[1.5], &[2.0, 1.1, 2.5]),
    ("dose_response_4pl", &[3.0e-7], &[5.0, 100.0, -6.5, 1.2]),
    ("oscillator_amplitude", &[1.8], &[1.0, 2.0, 0.3]),
    // below and above resonance (omega0 = 2)
    ("oscillator_phase", &[1.2], &[2.0, 0.3, 0.1]),
    ("oscillator_phase", &[2.5], &[2.0, 0.3, 0.1]),
    // on either side of the cusp at mu = 1
    ("laplace_peak", &[1.7], &[3.0, 1.0, 0.6]),
    ("laplace_peak", &[0.2], &[3.0, 1.0, 0.6]),
    // linear part, clipped at the floor lo = 0, clipped at the ceiling hi = 5
    ("clipped_linear", &[2.0], &[0.5, 1.5, 0.0, 5.0]),
    ("clipped_linear", &[-2.0], &[0.5, 1.5, 0.0, 5.0]),
    ("clipped_linear", &[6.0], &[0.5, 1.5, 0.0, 5.0]),
    // a0, a[0..3], b[0..3], omega
    (
        "fourier_series",
        &[0.9],
        &[0.5, 1.0, -0.4, 0.2, 0.3, 0.6, -0.1, 2.1],
    ),
    ("planck", &[1.2], &[1.0e8, 3000.0]),
    ("exp_approach", &[4.0], &[20.0, 90.0, 0.15]),
    ("biexponential", &[1.5], &[3.0, 0.5, 1.5, 4.0, 0.2]),
    ("gompertz", &[2.0], &[10.0, 3.0, 0.8]),
    ("log_normal", &[2.3], &[5.0, 0.7, 0.4]),
    ("tanh_step", &[0.3], &[1.5, 0.1, 0.4, -0.2]),
    ("catenary", &[1.3], &[2.0, 0.5, -1.0]),
    ("gaussian_linear_bg", &[5.1], &[12.0, 5.0, 0.4, 1.0, 0.02]),
];
