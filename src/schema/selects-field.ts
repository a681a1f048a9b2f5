import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/** Whether the field being resolved selects `name` directly (aliases and fragments followed). */
export function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  const visit = (selectionSet: SelectionSetNode | undefined): boolean =>
    (selectionSet?.selections ?? []).some((selection) => {
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet);
      if (selection.kind === Kind.FRAGMENT_SPREAD) return visit(info.fragments[selection.name.value]?.selectionSet);
      return selection.name.value === name;
    });
  return info.fieldNodes.some((node) => visit(node.selectionSet));
}
