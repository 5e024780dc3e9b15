package toolchain

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The aws module (terraform/aws) uses only EC2 (VPC, subnet, routes,
// internet gateway, security group and its rules, key pair, instances,
// aws_ami) and ECR (aws_ecr_repository); the provider itself asks STS who
// the caller is. The provider's two generated registries list all of its
// service packages and all 264 AWS SDK clients, and every build compiles
// all of them: 41 minutes on 2 cores. Built with only the packages below,
// the same provider code serves every
// resource the module uses in a fraction of that time. A resource outside
// these packages is refused by Terraform ("The provider hashicorp/aws does
// not support resource type ..."), never misbehaves.
var (
	// awsServicePackages are the provider's service packages
	// (internal/service/NAME) that are registered.
	awsServicePackages = []string{"ec2", "ecr", "sts"}
	// awsSDKClients are the AWSClient accessors (NAMEClient) kept: those
	// that the kept service packages and the provider's core call
	// (`grep -o '\.[A-Z][A-Za-z0-9]*Client(ctx)'` over internal/conns,
	// internal/provider and internal/service/{ec2,ecr,sts,organizations}).
	awsSDKClients = []string{"EC2", "ECR", "STS", "Organizations", "S3", "KMS", "ELBV2", "Account"}
)

const (
	awsServicePackagesFile = "internal/provider/sdkv2/service_packages_gen.go"
	awsClientsFile         = "internal/conns/awsclient_gen.go"
)

// copyTrimmedAWSProvider copies the provider's module from moduleDir (the
// read-only module cache, where `go build -overlay` may not replace files)
// to dir, without its tests, documentation and examples, and trims its
// two generated registries to the packages above.
func copyTrimmedAWSProvider(moduleDir, dir string) error {
	err := filepath.WalkDir(moduleDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(moduleDir, path)
		switch {
		case d.IsDir() && slices.Contains([]string{"website", "docs", "examples", ".ci", ".github"}, rel):
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		case strings.HasSuffix(rel, "_test.go") || !d.Type().IsRegular():
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("copy the aws provider's code: %w", err)
	}
	for rel, trim := range map[string]func(*ast.File){
		awsServicePackagesFile: func(f *ast.File) { keepServicePackages(f, awsServicePackages) },
		awsClientsFile:         func(f *ast.File) { keepClientAccessors(f, awsSDKClients) },
	} {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		src, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("trim the aws provider: %w", err)
		}
		out, err := trimGoFile(src, trim)
		if err != nil {
			return fmt.Errorf("trim the aws provider's %s: %w", rel, err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// trimGoFile parses src, lets trim drop declarations or elements, removes
// the imports nothing refers to any more, and prints the file again.
func trimGoFile(src []byte, trim func(*ast.File)) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	trim(f)
	f.Comments = nil // they belong to removed lines; go/printer would misplace them
	dropUnusedImports(f)
	var out bytes.Buffer
	if err := format.Node(&out, fset, f); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// keepServicePackages keeps, in the list of service packages, only the
// elements `NAME.ServicePackage(ctx)` whose NAME is in keep.
func keepServicePackages(f *ast.File, keep []string) {
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		kept := lit.Elts[:0]
		for _, e := range lit.Elts {
			if pkg := callPackage(e); pkg == "" || slices.Contains(keep, pkg) {
				kept = append(kept, e)
			}
		}
		lit.Elts = kept
		return true
	})
}

// callPackage returns NAME of an expression NAME.F(...), or "".
func callPackage(e ast.Expr) string {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return ""
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	id, ok := sel.X.(*ast.Ident)
	if !ok {
		return ""
	}
	return id.Name
}

// keepClientAccessors keeps, of the methods NAMEClient, only those whose
// NAME is in keep; other declarations stay.
func keepClientAccessors(f *ast.File, keep []string) {
	decls := f.Decls[:0]
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil && strings.HasSuffix(fn.Name.Name, "Client") &&
			!slices.Contains(keep, strings.TrimSuffix(fn.Name.Name, "Client")) {
			continue
		}
		decls = append(decls, d)
	}
	f.Decls = decls
}

// dropUnusedImports removes the imports of service packages (the SDK's
// and the provider's, whose names are their paths' last element) that no
// selector in the file uses any more; other imports stay as they are.
func dropUnusedImports(f *ast.File) {
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	for _, d := range f.Decls {
		gen, ok := d.(*ast.GenDecl)
		if !ok || gen.Tok != token.IMPORT {
			continue
		}
		specs := gen.Specs[:0]
		for _, s := range gen.Specs {
			spec := s.(*ast.ImportSpec)
			path, _ := strconv.Unquote(spec.Path.Value)
			name := path[strings.LastIndex(path, "/")+1:]
			servicePkg := strings.HasPrefix(path, "github.com/aws/aws-sdk-go-v2/service/") ||
				strings.HasPrefix(path, "github.com/hashicorp/terraform-provider-aws/internal/service/")
			if !servicePkg || spec.Name != nil || used[name] {
				specs = append(specs, s)
			}
		}
		gen.Specs = specs
	}
	f.Imports = nil
}
