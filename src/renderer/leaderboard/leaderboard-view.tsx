import { EmptyState, SectionLayout } from '../shell/section-layout';

export function LeaderboardView() {
  return (
    <SectionLayout section="leaderboard" title="Leaderboard">
      <EmptyState testId="empty-leaderboard" title="Scores appear here once runs are evaluated.">
        <p className="muted">
          Each run's final model is scored on its benchmark; the table ranks agents by the weighted overall score.
        </p>
      </EmptyState>
    </SectionLayout>
  );
}
