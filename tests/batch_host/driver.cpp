// Runs nlsq_batch_lm (argv[3] = "thread"; "stage": whole blocks of threads staging y in
// shared memory, equal lengths only) or nlsq_batch_lm_warp ("warp", 32 threads as the lanes of
// each fit's warp) over every fit of in.bin and writes out.bin (see
// tests/batch_kernel_host.rs for the format: all f64).
unsigned char nlsq_smem[48 * 1024];

static vector<double> read_all(const char* path) {
    FILE* f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    vector<double> v(n / 8);
    if (fread(v.data(), 8, v.size(), f) != v.size()) { perror("read"); exit(2); }
    fclose(f);
    return v;
}

int main(int argc, char** argv) {
    if (argc != 4) return 2;
    const bool warp = strcmp(argv[3], "warp") == 0;
    const bool stage = strcmp(argv[3], "stage") == 0;
    vector<double> in = read_all(argv[1]);
    size_t at = 0;
    auto next = [&]() { return in.at(at++); };
    const unsigned n_fits = (unsigned)next(), n_equal = (unsigned)next();
    const int x_mode = (int)next();
    const unsigned p0_stride = (unsigned)next(), bounds_stride = (unsigned)next(), fixed_stride = (unsigned)next();
    const int estimator = (int)next();
    const real tolerance = (real)next(), step_tolerance = (real)next();
    const unsigned max_iterations = (unsigned)next();
    const bool want_cov = next() != 0;
    auto array = [&](size_t len) { vector<double> v(in.begin() + at, in.begin() + at + len); at += len; return v; };
    auto reals = [&](const vector<double>& v) { return vector<real>(v.begin(), v.end()); };
    const size_t nx = (size_t)next(); vector<real> x = reals(array(nx));
    const size_t ny = (size_t)next(); vector<real> y = reals(array(ny));
    const size_t nw = (size_t)next(); vector<real> w = reals(array(nw));
    const size_t no = (size_t)next(); vector<double> od = array(no);
    vector<unsigned long long> offsets(od.begin(), od.end());
    const size_t np0 = (size_t)next(); vector<real> p0 = reals(array(np0));
    const size_t nb = (size_t)next(); vector<real> lo = reals(array(nb)); vector<real> hi = reals(array(nb));
    const size_t nf = (size_t)next(); vector<double> fd = array(nf);
    vector<unsigned char> fixed(fd.begin(), fd.end());
    vector<real> params(n_fits * NLSQ_P), chi2(n_fits), cov(want_cov ? (size_t)n_fits * NLSQ_P * NLSQ_P : 0);
    vector<unsigned char> states(n_fits);
    vector<unsigned int> iterations(n_fits);
    blockDim.x = NLSQ_BATCH_BLOCK;
    auto launch = [&](unsigned gtid) {
        blockIdx.x = gtid / NLSQ_BATCH_BLOCK;
        threadIdx.x = gtid % NLSQ_BATCH_BLOCK;
        (warp ? nlsq_batch_lm_warp : nlsq_batch_lm)(x.data(), y.data(), nw ? w.data() : nullptr,
            no ? offsets.data() : nullptr, n_equal, x_mode, p0.data(), p0_stride, nb ? lo.data() : nullptr,
            nb ? hi.data() : nullptr, bounds_stride, nf ? fixed.data() : nullptr, fixed_stride, estimator,
            tolerance, step_tolerance, max_iterations, n_fits, stage ? 1 : 0, params.data(), states.data(), chi2.data(),
            iterations.data(), want_cov ? cov.data() : nullptr);
    };
    std::barrier<> bar(32);
    nlsq_warp_barrier = &bar;
    if (stage) {
        if (no || (size_t)NLSQ_BATCH_BLOCK * n_equal * sizeof(real) > sizeof(nlsq_smem)) return 3;
        std::barrier<> block(NLSQ_BATCH_BLOCK);
        nlsq_block_barrier = &block;
        for (unsigned first = 0; first < n_fits; first += NLSQ_BATCH_BLOCK) {
            vector<std::thread> threads;
            for (unsigned t = 0; t < NLSQ_BATCH_BLOCK; ++t) threads.emplace_back(launch, first + t);
            for (auto& t : threads) t.join();
        }
        nlsq_block_barrier = nullptr;
    }
    for (unsigned fit = 0; fit < n_fits && !stage; ++fit) {
        if (!warp) {
            launch(fit);
            continue;
        }
        vector<std::thread> lanes;
        for (unsigned lane = 0; lane < 32; ++lane) lanes.emplace_back(launch, fit * 32 + lane);
        for (auto& t : lanes) t.join();
    }
    FILE* f = fopen(argv[2], "wb");
    auto put = [&](double v) { fwrite(&v, 8, 1, f); };
    for (real v : params) put(v);
    for (unsigned char s : states) put(s);
    for (real v : chi2) put(v);
    for (unsigned int i : iterations) put(i);
    for (real v : cov) put(v);
    fclose(f);
    return 0;
}
