package toolchain

import "runtime"

func runtimeGOARCHOS() string { return runtime.GOOS + "_" + runtime.GOARCH }
