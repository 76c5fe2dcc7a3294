// transpose — swaps the last two axes of a batch of matrices: weights into the layout a backward
// GEMM streams along (pw (CIN, COUT) -> (COUT, CIN); stem w (3,3,CIN,COUT) -> (3,3,COUT,CIN)).
// No compile-time options.

// out[b, c, r] = in[b, r, c]: weights to the layout a backward GEMM streams along.
// Launch: global (cols, rows, batches).
kernel void transpose(global const float* in, // (B, rows, cols)
                      global float* out,      // (B, cols, rows)
                      int rows, int cols)
{
    const int c = get_global_id(0), r = get_global_id(1), bt = get_global_id(2);
    if (c >= cols || r >= rows) return;
    out[((long)bt * cols + c) * rows + r] = in[((long)bt * rows + r) * cols + c];
}

