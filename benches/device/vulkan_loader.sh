# Sourced by the device steps that run wgpu: puts Debian's Vulkan loader from
# $DEVBIN/libvulkan1_*.deb (the GPU machine has an ICD but no loader) on LD_LIBRARY_PATH and
# selects wgpu's Vulkan backend.
VK="$DEVBIN"/vulkan-loader
if [ ! -e "$VK/usr/lib/x86_64-linux-gnu/libvulkan.so.1" ]; then
    dpkg -x "$DEVBIN"/libvulkan1_*.deb "$VK"
fi
export LD_LIBRARY_PATH="$(cd "$VK" && pwd)/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export WGPU_BACKEND=${WGPU_BACKEND:-vulkan}
